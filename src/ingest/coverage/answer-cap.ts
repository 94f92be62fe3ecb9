/**
 * Whether a relay's stored-events answer (the events before EOSE) may have been cut short by the
 * relay, judged against the REQ actually sent. Pure.
 *
 * Relays cap answers silently, and differently with and without `limit`: @nostr-relay/core answers
 * a REQ without `limit` with its newest 100 events and one with `limit` with up to 1,000, so NIP-11
 * `max_limit` (the cap of a REQ *with* `limit`) says nothing about a REQ without one. Hence:
 * - catch-up REQs carry an explicit `limit` (catchUpLimit: the known or learned page size), and
 *   an answer of that many events is capped;
 * - a shorter answer is complete only when the relay is known to serve at least as many as asked
 *   (a learned page size, NIP-11 `max_limit`, or a larger answer it gave before); otherwise it may
 *   have been cut at a cap nobody knows, and only paging or NIP-77 can prove the range;
 * - an answer to a REQ without `limit` is judged only against a cap learned for such REQs.
 * An empty answer is never capped.
 */

/** What is known of a relay's caps. Every field is optional: unknown is the common case. */
export interface RelayCaps {
  /** The page size a REQ with `limit` is served, learned from backfill pages (relays.learned). */
  learnedPageSize?: number | null;
  /** NIP-11 `limitation.max_limit`: the relay's word on the cap of a REQ with `limit`. */
  maxLimit?: number | null;
  /** The largest answer the relay gave a REQ with `limit`: it serves at least that many. */
  largestLimitedAnswer?: number | null;
  /** The cap of a REQ without `limit`, once learned (never taken from max_limit). */
  withoutLimitCap?: number | null;
}

export interface SentReq {
  /** The `limit` the REQ carried, or null when it carried none. */
  limit: number | null;
}

export type CapVerdict =
  | { capped: false; reason: 'empty' | 'shorter than a known cap' }
  | { capped: true; reason: 'full answer' | 'at the known cap' | 'cap unknown' };

/** The page size to put in a catch-up REQ's `limit`. */
export function catchUpLimit(caps: RelayCaps, fallback: number): number {
  const known = caps.learnedPageSize ?? caps.maxLimit ?? null;
  return Math.max(1, known ?? fallback);
}

/** The largest answer a REQ with `limit` = `asked` is known to be served in full, or 0. */
function knownServed(caps: RelayCaps, asked: number): number {
  const declared = caps.learnedPageSize ?? caps.maxLimit ?? 0;
  return Math.min(asked, Math.max(declared, caps.largestLimitedAnswer ?? 0));
}

export function judgeAnswer(sent: SentReq, count: number, caps: RelayCaps): CapVerdict {
  if (count === 0) return { capped: false, reason: 'empty' };
  if (sent.limit === null) {
    const cap = caps.withoutLimitCap ?? null;
    if (cap === null) return { capped: true, reason: 'cap unknown' };
    return count >= cap ? { capped: true, reason: 'at the known cap' } : { capped: false, reason: 'shorter than a known cap' };
  }
  if (count >= sent.limit) return { capped: true, reason: 'full answer' };
  // A learned page size below the limit asked caps the answer there, whatever NIP-11 says.
  if (caps.learnedPageSize != null && count >= caps.learnedPageSize) return { capped: true, reason: 'at the known cap' };
  if (caps.learnedPageSize == null && caps.maxLimit != null && count >= caps.maxLimit) return { capped: true, reason: 'at the known cap' };
  return count < knownServed(caps, sent.limit) ? { capped: false, reason: 'shorter than a known cap' } : { capped: true, reason: 'cap unknown' };
}

/** What an answer proves of the REQ's range [since, until], and the hole it leaves. */
export interface EoseProof {
  proven: { since: number; until: number } | null;
  /** The part only paging or NIP-77 can prove (persisted as a hole from the EOSE on), or null. */
  hole: { since: number; until: number } | null;
}

/**
 * A complete answer proves the whole range. A capped one proves only the seconds after its oldest
 * event (the relay sends newest first; the oldest second itself may be cut), and the rest, its
 * oldest second included, is a hole. With no readable created_at the whole range is the hole.
 */
export function proofOfAnswer(range: { since: number; until: number }, oldest: number | null, verdict: CapVerdict): EoseProof {
  if (!verdict.capped) return { proven: { since: range.since, until: range.until }, hole: null };
  if (oldest === null) return { proven: null, hole: { since: range.since, until: range.until } };
  const cut = Math.min(Math.max(oldest, range.since), range.until);
  return {
    proven: cut + 1 <= range.until ? { since: cut + 1, until: range.until } : null,
    hole: { since: range.since, until: cut },
  };
}
