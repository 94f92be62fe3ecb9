/**
 * Prompt hole repair, as a queue: a hole is repaired as soon as it is known (right after the capped
 * EOSE that left it), per (relay, scope) one at a time, and up to `concurrency` keys at once, so one
 * scope's repair never waits behind another's (before: one repair per minute across all scopes).
 * A key's newest hole goes first (the recent past is what readers ask for). A hole offered again
 * while queued is kept once; one offered while its key is busy waits for it. No I/O: the caller's
 * `repair` does the paging or NIP-77; a failure is reported and the hole may be offered again.
 */

export interface Hole {
  since: number;
  until: number;
}

export interface RepairQueueOptions {
  concurrency: number;
  repair: (key: string, hole: Hole) => Promise<void>;
  onError?: (key: string, hole: Hole, error: unknown) => void;
}

export class RepairQueue {
  private readonly waiting = new Map<string, Hole[]>();
  private readonly busy = new Set<string>();
  private readonly idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: RepairQueueOptions) {
    if (!(options.concurrency >= 1)) throw new Error('concurrency must be at least 1');
  }

  /** Queues a hole of `key` (a relay and scope); starts it now when a slot is free. */
  offer(key: string, hole: Hole): void {
    if (this.closed) return;
    const holes = this.waiting.get(key) ?? [];
    if (!holes.some((h) => h.since === hole.since && h.until === hole.until)) holes.push({ ...hole });
    holes.sort((a, b) => b.until - a.until || b.since - a.since);
    this.waiting.set(key, holes);
    this.pump();
  }

  /** Holes queued or running. */
  get pending(): number {
    let n = this.busy.size;
    for (const holes of this.waiting.values()) n += holes.length;
    return n;
  }

  /** Keys being repaired now. */
  running(): string[] {
    return [...this.busy];
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes no more holes; running repairs finish. */
  close(): void {
    this.closed = true;
    this.waiting.clear();
  }

  private pump(): void {
    // Keys in the order they were first offered; each key holds at most one slot.
    for (const [key, holes] of this.waiting) {
      if (this.busy.size >= this.options.concurrency) return;
      if (this.busy.has(key) || holes.length === 0) continue;
      const hole = holes.shift()!;
      if (holes.length === 0) this.waiting.delete(key);
      this.busy.add(key);
      void this.options
        .repair(key, hole)
        .catch((error: unknown) => this.options.onError?.(key, hole, error))
        .finally(() => {
          this.busy.delete(key);
          this.pump();
          if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        });
    }
  }
}
