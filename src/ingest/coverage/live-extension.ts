/**
 * Where a live subscription's coverage may grow from, pure. The issue-11 bug: after a capped
 * catch-up answer the live tick extended the old covered range (`coveredUntil(ranges) ?? provenFrom`)
 * over seconds nothing had proven, so the events the relay cut were never a hole and never
 * fetched. The rule here: live coverage extends only a range that touches what this
 * subscription's EOSE proved; otherwise it starts at that proof, and the seconds between stay
 * uncovered, which makes them a hole between two covered ranges: persisted (the ranges are), reported
 * and repaired, and cleared only when exactly that interval is proven.
 */

export interface Span {
  since: number;
  until: number;
}

/**
 * The second from which the tick may claim coverage up to now - margin, or null while nothing is
 * proven yet. `provenSince` is where this subscription's EOSE proof starts (the REQ's since when the
 * answer was complete, the second after its oldest event when it may have been capped), null when
 * its EOSE proved nothing. `ranges` are the (relay, scope)'s covered ranges, merged.
 */
export function liveExtensionStart(ranges: readonly Span[], provenSince: number | null): number | null {
  if (provenSince === null) return null;
  // The covered range containing (or touching) the proof's start: its end is contiguous proof.
  for (const r of ranges) {
    if (r.since <= provenSince && r.until + 1 >= provenSince) return Math.max(r.until, provenSince);
  }
  return provenSince;
}
