/**
 * Batching and backpressure: batches are written one after another (each write waits for the one
 * before, so commits keep submit order), verification of the next overlapping the write of the
 * previous. A batch holds a slot from dispatch until its write settles; submit waits while every
 * slot is taken, so a slow database slows the reader instead of growing memory.
 */
export class BatchSlots {
  private readonly inflight: Promise<void>[] = [];
  private chain: Promise<void> = Promise.resolve();

  /** Batches dispatched and not yet written. */
  get taken(): number {
    return this.inflight.length;
  }

  /** Runs `write` after every batch before it; it must not reject (it keeps its own failure). */
  enqueue(write: () => Promise<void>): void {
    const chain = this.chain.then(write);
    this.chain = chain;
    this.inflight.push(chain);
    // Each batch leaves the list when it settles; waiters registered later see it gone.
    void chain.then(() => {
      const at = this.inflight.indexOf(chain);
      if (at >= 0) this.inflight.splice(at, 1);
    });
  }

  /** Resolves once fewer than `limit` batches are in flight. */
  async waitForRoom(limit: number): Promise<void> {
    while (this.inflight.length >= limit) await this.inflight[0];
  }
}

/** Dispatches a partial batch a while after its first event (live ingest). */
export class BatchTimer {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly delayMs: number,
    private readonly fire: () => void,
  ) {}

  arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fire();
    }, this.delayMs);
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
