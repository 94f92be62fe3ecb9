/**
 * What a live REQ's EOSE proves. Relays may cap a REQ without `limit` at their page size, so an
 * answer that could be a capped page proves only the part newer than its oldest event.
 */
import type { Range } from '../../ranges.js';

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

/**
 * Counts an event of a REQ's stored-events answer and keeps the oldest created_at seen. One older
 * than the REQ's since (which a relay should not send) must not make a capped page look complete.
 */
export function noteAnswer(answer: EoseAnswer, createdAt: unknown, since: number): void {
  answer.count++;
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < since) return;
  if (answer.oldest === null || createdAt < answer.oldest) answer.oldest = createdAt;
}
