import { IdPrefixSet } from './id-prefix-set.js';

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

  /** 'new' (caller verifies it), 'known' (a verified copy exists), or 'waiting' (held for the pending copy). */
  admit(id: string, item: T): 'new' | 'known' | 'waiting' {
    if (this.confirmed.has(id)) return 'known';
    const waiting = this.pending.get(id);
    if (waiting) {
      // Bounded: a handful of alternates is enough to defeat a forged first copy.
      if (waiting.length < 4) waiting.push(item);
      return 'waiting';
    }
    this.pending.set(id, []);
    return 'new';
  }

  /** A copy of `id` verified (or was found stored); pending ones do not count. */
  isConfirmed(id: string): boolean {
    return this.confirmed.has(id);
  }

  /** The pending copy verified (or is stored): its waiting copies are duplicates. */
  confirm(id: string): T[] {
    const waiting = this.pending.get(id) ?? [];
    this.pending.delete(id);
    this.confirmed.add(id);
    return waiting;
  }

  /** The pending copy was rejected: the next waiting copy (if any) becomes the pending one. */
  reject(id: string): T | undefined {
    const waiting = this.pending.get(id);
    const next = waiting?.shift();
    if (next === undefined) this.pending.delete(id);
    return next;
  }

  get size(): number {
    return this.confirmed.size;
  }
}
