/**
 * NIP-40 expiration. Only a plain integer counts; "1.5", "", "-3" or "soon" are ignored, so a
 * malformed tag can never make an event disappear.
 */
import type { NostrEvent } from '../types.js';
import { firstValue, parseUnsignedInt } from './tags.js';

/** Unix seconds from the first `expiration` tag, or null when absent or not an integer. */
export function expirationOf(event: Pick<NostrEvent, 'tags'>): number | null {
  return parseUnsignedInt(firstValue(event.tags, 'expiration'));
}

/** Whether the event has expired at `now` (unix seconds, supplied by the caller: no clock here). */
export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}
