/**
 * The late-arrival settle window. Coverage is proof as of when it was proven: an event can reach a
 * relay long after its created_at (clients publish to more relays later, relays sync from each
 * other, clocks are off). So each covered piece keeps when it was proven, and trailing windows are
 * re-reconciled on a schedule: by default the last hour every 5 minutes and the last day every
 * hour. A re-check proves its interval again (provenAt = then). Pure: the daemon runs the work
 * (NIP-77 where the relay supports it, cheap when in sync; paging otherwise) and records the proof.
 */

import { mergeRanges, uncovered, type ProvenRange, type Range } from '../../ranges.js';

export interface SettleWindow {
  /** How far back from now the window reaches (seconds of created_at). */
  spanSeconds: number;
  /** A piece of the window proven longer ago than this is re-checked. */
  everySeconds: number;
}

export const DEFAULT_SETTLE_WINDOWS: readonly SettleWindow[] = [
  { spanSeconds: 3_600, everySeconds: 300 },
  { spanSeconds: 86_400, everySeconds: 3_600 },
];

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

function duration(text: string, spec: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) throw new Error(`settle window "${spec}": "${text}" is not a duration (e.g. 300, 5m, 1h, 1d)`);
  return Number(m[1]) * UNIT_SECONDS[m[2] || 's']!;
}

/**
 * `span/every` pairs, comma-separated: "1h/5m,1d/1h" (the default), "3600/300". "off" or "" turns
 * the settle window off. Each `every` must be positive and shorter than its span.
 */
export function parseSettleWindows(spec: string): SettleWindow[] {
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed === 'off') return [];
  return trimmed
    .split(',')
    .map((part) => {
      const [span, every, extra] = part.split('/');
      if (span === undefined || every === undefined || extra !== undefined) throw new Error(`settle window "${part}": expected span/every, e.g. 1h/5m`);
      const window = { spanSeconds: duration(span, part), everySeconds: duration(every, part) };
      if (window.everySeconds <= 0 || window.everySeconds >= window.spanSeconds) {
        throw new Error(`settle window "${part}": every must be positive and shorter than the span`);
      }
      return window;
    })
    .sort((a, b) => a.spanSeconds - b.spanSeconds);
}

export { recordProof, type ProvenRange } from '../../ranges.js';

/**
 * The covered pieces of (relay, scope) with their proof times: recorded ones (clipped to what is
 * covered), and for coverage without a record (proven live, as it happened) its own start, a lower
 * bound of when it was proven, so such a piece is never re-checked later than due.
 */
export function provenPieces(coverage: readonly Range[], proofs: readonly ProvenRange[]): ProvenRange[] {
  const covered = mergeRanges(coverage);
  const out: ProvenRange[] = [];
  for (const p of proofs) {
    for (const c of covered) {
      const since = Math.max(p.since, c.since);
      const until = Math.min(p.until, c.until);
      if (since <= until) out.push({ since, until, provenAt: p.provenAt });
    }
  }
  for (const c of covered) {
    for (const gap of uncovered(out, c)) out.push({ ...gap, provenAt: gap.since });
  }
  return out.sort((a, b) => a.since - b.since);
}

/**
 * What to re-reconcile now: the covered parts of each trailing window [now - span, now] proven more
 * than `every` ago, merged where they touch. Uncovered parts are not here: they are holes, repaired
 * as such.
 */
export function settleWork(windows: readonly SettleWindow[], pieces: readonly ProvenRange[], now: number): Array<{ since: number; until: number }> {
  const due: Array<{ since: number; until: number }> = [];
  for (const w of windows) {
    const from = now - w.spanSeconds;
    for (const p of pieces) {
      if (p.until < from || now - p.provenAt <= w.everySeconds) continue;
      due.push({ since: Math.max(p.since, from), until: p.until });
    }
  }
  due.sort((a, b) => a.since - b.since);
  const merged: Array<{ since: number; until: number }> = [];
  for (const r of due) {
    const last = merged[merged.length - 1];
    if (last && r.since <= last.until + 1) last.until = Math.max(last.until, r.until);
    else merged.push({ ...r });
  }
  return merged;
}

/**
 * The lateness the schedule tolerates: an event reaching the relay up to `lateBy` seconds after
 * its created_at is fetched within `within` seconds of arriving (plus the time a re-check takes).
 * Later than the largest bound, only `backfill --recheck` or `audit` finds it.
 */
export function toleratedLateness(windows: readonly SettleWindow[]): Array<{ lateBy: number; within: number }> {
  return [...windows].sort((a, b) => a.spanSeconds - b.spanSeconds).map((w) => ({ lateBy: w.spanSeconds - w.everySeconds, within: w.everySeconds }));
}
