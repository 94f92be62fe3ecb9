/**
 * Closed ranges of unix seconds, [since, until]: the shape of coverage (what a relay is proven to
 * have sent us for a scope, see ingest/coverage/) and of what the store persists. Pure functions
 * and a leaf module, so the store and the ingest stages can both use them.
 */
export interface Range {
  since: number;
  until: number;
}

/** Sorted, non-overlapping ranges; ranges that touch (a.until + 1 >= b.since) are joined. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = ranges.filter((r) => r.until >= r.since).sort((a, b) => a.since - b.since || a.until - b.until);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.since <= last.until + 1) last.until = Math.max(last.until, r.until);
    else out.push({ since: r.since, until: r.until });
  }
  return out;
}

export function addRange(ranges: readonly Range[], added: Range): Range[] {
  return mergeRanges([...ranges, added]);
}

/** Gaps between covered ranges: what the daemon must repair. */
export function holes(ranges: readonly Range[]): Range[] {
  const merged = mergeRanges(ranges);
  const out: Range[] = [];
  for (let i = 1; i < merged.length; i++) out.push({ since: merged[i - 1]!.until + 1, until: merged[i]!.since - 1 });
  return out;
}

/** The end of the newest covered range, or null when nothing is covered yet. */
export function coveredUntil(ranges: readonly Range[]): number | null {
  const merged = mergeRanges(ranges);
  return merged.length === 0 ? null : merged[merged.length - 1]!.until;
}

/** Whether [since, until] lies entirely inside one covered range. */
export function isCovered(ranges: readonly Range[], wanted: Range): boolean {
  return mergeRanges(ranges).some((r) => r.since <= wanted.since && r.until >= wanted.until);
}

/** Parts of `wanted` not covered by `ranges`. */
export function uncovered(ranges: readonly Range[], wanted: Range): Range[] {
  const out: Range[] = [];
  let cursor = wanted.since;
  for (const r of mergeRanges(ranges)) {
    if (r.until < cursor) continue;
    if (r.since > wanted.until) break;
    if (r.since > cursor) out.push({ since: cursor, until: Math.min(r.since - 1, wanted.until) });
    cursor = Math.max(cursor, r.until + 1);
    if (cursor > wanted.until) break;
  }
  if (cursor <= wanted.until) out.push({ since: cursor, until: wanted.until });
  return out;
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
