/**
 * The late-arrival settle window. Coverage is proof as of when it was proven: an event can reach a
 * relay long after its created_at (clients publish to more relays later, relays sync from each
 * other, clocks are off). So each covered piece keeps when it was proven, and trailing windows are
 * re-reconciled on a schedule: by default the last hour every 5 minutes and the last day every
 * hour. A re-check proves its interval again (provenAt = then). Pure: the daemon runs the work
 * (NIP-77 where the relay supports it, cheap when in sync; paging otherwise) and records the proof.
 */

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

/** A covered piece of [since, until] and when it was (last) proven, in unix seconds. */
export interface ProvenRange {
  since: number;
  until: number;
  provenAt: number;
}

/**
 * Records that [since, until] was proven at `at`: pieces it overlaps take that time there, pieces
 * outside it keep theirs. Touching pieces proven within `granularitySeconds` of each other are
 * joined, keeping the older time (a re-check then covers both), so the list stays short.
 */
export function recordProof(pieces: readonly ProvenRange[], proven: { since: number; until: number }, at: number, granularitySeconds = 60): ProvenRange[] {
  const out: ProvenRange[] = [];
  for (const p of pieces) {
    if (p.until < proven.since || p.since > proven.until) {
      out.push({ ...p });
      continue;
    }
    if (p.since < proven.since) out.push({ since: p.since, until: proven.since - 1, provenAt: p.provenAt });
    if (p.until > proven.until) out.push({ since: proven.until + 1, until: p.until, provenAt: p.provenAt });
  }
  out.push({ since: proven.since, until: proven.until, provenAt: at });
  out.sort((a, b) => a.since - b.since);
  const joined: ProvenRange[] = [];
  for (const p of out) {
    const last = joined[joined.length - 1];
    if (last && p.since <= last.until + 1 && Math.abs(p.provenAt - last.provenAt) <= granularitySeconds) {
      last.until = Math.max(last.until, p.until);
      last.provenAt = Math.min(last.provenAt, p.provenAt);
    } else joined.push({ ...p });
  }
  return joined;
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
