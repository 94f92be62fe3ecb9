/**
 * Coverage of a (relay, scope) subscription as closed ranges of unix seconds, [since, until], each
 * proven complete: the relay sent EOSE for a REQ over it and its events are committed. Pure
 * functions; the store persists ranges in the same transaction as the events they cover.
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

/** What a live REQ's stored-events answer held before its EOSE. */
export interface EoseAnswer {
  count: number;
  /** Oldest created_at among them, or null if none was readable. */
  oldest: number | null;
}

/**
 * The part of a live REQ's range its EOSE proves complete. Relays may silently cap a REQ without
 * `limit` at their page size and send only the newest events, so an answer that could be a capped
 * page proves only what is newer than its oldest event's second; the older part stays a hole for
 * hole repair to page. `cap` is the relay's known page size (advertised or learned); unknown, any
 * non-empty answer is treated as possibly capped, which costs one small repair, never an event.
 */
export function provenByEose(range: Range, answer: EoseAnswer, cap: number | null): Range | null {
  const possiblyCapped = cap === null ? answer.count > 0 : answer.count >= cap;
  if (!possiblyCapped) return range;
  if (answer.oldest === null) return null;
  const since = Math.max(range.since, answer.oldest + 1);
  return since <= range.until ? { since, until: range.until } : null;
}
