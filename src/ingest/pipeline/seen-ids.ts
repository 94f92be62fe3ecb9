import { hex32, hex32Bytes, IdPrefixSet } from './id-prefix-set.js';

/** Copies kept beside a pending one: a handful is enough to defeat a forged first copy. */
const MAX_WAITING = 4;

/**
 * Dedupe before crypto: remembers ids that verified (or were found stored) so the same event from
 * five relays is verified once, and tracks ids whose first copy is still being verified. A copy that
 * arrives while another is pending waits beside it; if the pending copy turns out forged (a relay
 * can send a bad signature under a real id), the waiting copy is verified instead, so a forgery can
 * never shadow the real event.
 */
export class SeenIds<T> {
  /** Verified ids, the most recent `capacity` of them (fixed memory, see id-prefix-set.ts). */
  private readonly confirmed: IdPrefixSet;
  private readonly pending = new Map<string, T[]>();

  constructor(capacity: number) {
    this.confirmed = new IdPrefixSet(capacity);
  }

  /**
   * 'new' (caller verifies it), 'waiting' (held for the pending copy), or 'known' (a verified copy
   * exists, or enough copies already wait: this one is not needed).
   */
  admit(id: string, item: T): 'new' | 'known' | 'waiting' {
    if (this.confirmed.has(id)) return 'known';
    const waiting = this.pending.get(id);
    if (waiting) {
      if (waiting.length >= MAX_WAITING) return 'known';
      waiting.push(item);
      return 'waiting';
    }
    this.pending.set(id, []);
    return 'new';
  }

  /**
   * A copy of an id already seen, without a parse: 'known' (a verified copy exists, or enough copies
   * wait), 'waiting' (held for the pending copy: `item()` is kept), or 'unknown' (nothing taken).
   */
  takeCopy(id: string, item: () => T): 'known' | 'waiting' | 'unknown' {
    if (this.confirmed.has(id)) return 'known';
    const waiting = this.pending.get(id);
    if (waiting === undefined) return 'unknown';
    if (waiting.length >= MAX_WAITING) return 'known';
    waiting.push(item());
    return 'waiting';
  }

  /** A copy of `id` verified (or was found stored); pending ones do not count. */
  isConfirmed(id: string): boolean {
    return this.confirmed.has(id);
  }

  /**
   * Whether `sig` is the signature `id` was confirmed with (its first 32 bits: a forger guessing
   * blind matches one time in 2^32; one who knows the real signature could send the real event).
   * False when `id` is not confirmed.
   */
  signedAs(id: string, sig: string): boolean {
    const tag = this.confirmed.tagOf(id);
    return tag !== undefined && sig.length === 128 && tag === hex32(sig, 0);
  }

  /** signedAs for a signature still in a frame's bytes, starting at `at` (no string made). */
  signedAsIn(id: string, frame: Buffer, at: number): boolean {
    const tag = this.confirmed.tagOf(id);
    return tag !== undefined && tag === hex32Bytes(frame, at);
  }

  /** The copies held beside the pending one of `id` (none when it is not pending). */
  waitingCopies(id: string): readonly T[] {
    return this.pending.get(id) ?? [];
  }

  /** A copy of `id` is being verified now. */
  isPending(id: string): boolean {
    return this.pending.has(id);
  }

  /** The pending copy verified (or is stored) with signature `sig`: returns its waiting copies. */
  confirm(id: string, sig: string): T[] {
    const waiting = this.pending.get(id) ?? [];
    this.pending.delete(id);
    this.confirmed.add(id, hex32(sig, 0));
    return waiting;
  }

  /** The pending copy was rejected: the next waiting copy (if any) becomes the pending one. */
  reject(id: string): T | undefined {
    const waiting = this.pending.get(id);
    const next = waiting?.shift();
    if (next === undefined) this.pending.delete(id);
    return next;
  }
}
