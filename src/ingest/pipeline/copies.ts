/**
 * Copies of one event held across relays. While a copy is being verified, copies of the same id from
 * other relays are held as their EVENT frames, parsed only if the pending copy fails verification:
 * copies from several relays at once cost no parse. SeenIds keeps them in arrival order.
 */
import { parseRelayFrame } from '../../nostr/relay-frames.js';
import type { NostrEvent } from '../../nostr/types.js';
import type { SeenIds } from './seen-ids.js';
import type { Sightings } from './sightings.js';

export interface PipelineItem {
  value: unknown;
  /** Size of the raw JSON, when known (checked against maxEventBytes without re-serialising). */
  bytes?: number;
  relay: string | null;
  /** Caller's reference (a line number for imports), handed back with rejections. */
  ref?: number;
}

/** A value that passed the screen. */
export interface Admitted {
  item: PipelineItem;
  event: NostrEvent;
  /**
   * A copy of an id decided before, under another signature than the one that verified: verified on
   * its own, only to decide whether its relay holds the event (nothing is written for it).
   */
  recheck?: boolean;
}

/** A copy held as its relay's EVENT frame. */
export interface HeldCopy {
  /** The frame's bytes, copied (kept off the JavaScript heap: cheaper for the collector). */
  frame: Buffer;
  relay: string;
  /** The signature the frame carries (peeked), null if not found in the expected form. */
  sig: string | null;
}

export type Copy = Admitted | HeldCopy;

export const isAdmitted = (copy: Copy): copy is Admitted => 'event' in copy;

export const copySig = (copy: Copy): string | null => (isAdmitted(copy) ? copy.event.sig : copy.sig);

/** A held copy as a pipeline item: its frame parsed (a frame that is no EVENT fails the shape check). */
export function heldItem(copy: HeldCopy): PipelineItem {
  const frame = parseRelayFrame(copy.frame.toString('utf8'), Number.MAX_SAFE_INTEGER, copy.frame.length);
  return { value: frame.type === 'EVENT' ? frame.event : null, bytes: copy.frame.length, relay: copy.relay };
}

/**
 * A further frame for a pending event from a relay that already has a copy waiting beside it: not
 * held, so one relay cannot fill the waiting places (MAX_WAITING) an honest relay's copy needs.
 * A relay whose own copy is the pending one may still have one held: its first copy may be the
 * forgery and its second the real event.
 */
export function repeatOfPending(seen: SeenIds<Copy>, sightings: Sightings, id: string, relay: string): boolean {
  if (!sightings.has(id, relay)) return false;
  return seen.waitingCopies(id).some((copy) => (isAdmitted(copy) ? copy.item.relay : copy.relay) === relay);
}
