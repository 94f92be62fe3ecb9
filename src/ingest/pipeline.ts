/**
 * The ingest pipeline, one instance per daemon (or import): raw values in, committed rows out.
 *
 *   submit ─► shape check ─► ephemeral / expired / unstorable ─► dedupe (memory) ─┐
 *   ┌──────────────────────────────────────────────────────────────────────────────┘
 *   └► batch (size or time) ─► dedupe (stored) ─► verify (worker pool) ─► normalise ─► writeBatch
 *
 * Verification of the next batch overlaps the write of the previous one; `submit` waits while
 * `maxPendingBatches` batches are in flight, so a slow database slows the reader instead of growing
 * memory. Every value ends in exactly one outcome counter.
 */
import { sql } from 'drizzle-orm';
import { query, type AppDatabase, type Queryable } from '../db/client.js';
import type { Logger } from '../log.js';
import { checkEventShape } from '../nostr/event-shape.js';
import { kindClass } from '../nostr/kinds.js';
import { normalizeEvent } from '../nostr/normalize/index.js';
import { expirationOf } from '../nostr/normalize/nip40-expiration.js';
import type { NormalizeOptions, NormalizedEvent, NostrEvent } from '../nostr/types.js';
import type { VerifyPool, VerifyResult } from '../nostr/verify-pool.js';
import { textSet } from '../store/derived.js';
import { unstorableReason } from '../store/rows.js';
import { writeBatch, type WriteOptions, type WriteResult } from '../store/write-batch.js';
import { emptyOutcomes, type OutcomeCounts } from './outcomes.js';
import { SeenIds } from './seen-ids.js';

export interface PipelineItem {
  value: unknown;
  /** Size of the raw JSON, when known (checked against maxEventBytes without re-serialising). */
  bytes?: number;
  relay: string | null;
  /** Caller's reference (a line number for imports), handed back with rejections. */
  ref?: number;
}

export interface PipelineOptions {
  /** Reads (dedupe lookups). */
  db: AppDatabase;
  /** Batch transactions; default `db` (see Database.writer). */
  writeDb?: AppDatabase;
  verifier: VerifyPool;
  normalizeOptions: NormalizeOptions;
  batchSize: number;
  maxFutureSeconds: number;
  maxEventBytes: number;
  /** Dispatch a partial batch this long after its first event (live ingest); default 250 ms. */
  maxBatchDelayMs?: number;
  /** Batches verifying or writing before submit() waits; default 3. */
  maxPendingBatches?: number;
  /** Verified ids remembered for dedupe; default 500,000. */
  seenCapacity?: number;
  now?: () => number;
  onBatchWritten?: (result: WriteResult) => void;
  /**
   * Database errors are retried with backoff (a restarted or unreachable server must not lose the
   * batch in hand); after this many consecutive failures the pipeline gives up. Default 30 (~10 min).
   */
  maxWriteAttempts?: number;
  /** First retry delay, doubled up to 30 s. Default 500 ms. */
  retryDelayMs?: number;
  /** A database operation taking longer than this counts as failed and is retried. Default 120 s. */
  operationTimeoutMs?: number;
  /** Called with each database error before a retry (Database.recover replaces a lost pool). */
  onDatabaseError?: (error: unknown) => Promise<unknown>;
  /** Extra work in each batch's transaction (coverage cursors). */
  inTransaction?: WriteOptions['inTransaction'];
  log?: Logger;
}

interface Admitted {
  item: PipelineItem;
  event: NostrEvent;
}

/** Work to run in the transaction that commits everything submitted before it (cursor writes). */
interface Marker {
  work: (tx: Queryable) => Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Checked {
  stored: Set<string>;
  results: Map<string, VerifyResult>;
}

export class IngestPipeline {
  readonly counts: OutcomeCounts = emptyOutcomes();
  private readonly seen: SeenIds<Admitted>;
  private buffer: Admitted[] = [];
  private sightings: Array<{ eventId: string; relay: string }> = [];
  private markers: Marker[] = [];
  private readonly inflight: Promise<void>[] = [];
  private writeChain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly rejectListeners = new Set<(item: PipelineItem, reason: string) => void>();

  constructor(private readonly options: PipelineOptions) {
    this.seen = new SeenIds(options.seenCapacity ?? 500_000);
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Events waiting for a batch, and batches in flight (for health and backpressure tests). */
  get depth(): { buffered: number; pendingBatches: number } {
    return { buffered: this.buffer.length, pendingBatches: this.inflight.length };
  }

  /** Which secp256k1 build verifies, and the pool's load (for health). */
  get verification(): { backend: string | null } & ReturnType<VerifyPool['stats']> {
    return { backend: this.options.verifier.backend, ...this.options.verifier.stats() };
  }

  /** Calls `listener` for every rejected value (with its reason); returns the unsubscribe. */
  onReject(listener: (item: PipelineItem, reason: string) => void): () => void {
    this.rejectListeners.add(listener);
    return () => this.rejectListeners.delete(listener);
  }

  /** True for an id whose event verified (or was found stored): another copy needs no work. */
  isKnown(id: string): boolean {
    return this.seen.isConfirmed(id);
  }

  /**
   * A copy of a known event, taken unparsed (RelayConnection's duplicate fast path): counted as a
   * duplicate, and its relay recorded as seen-on with the next batch.
   */
  noteKnown(id: string, relay: string): void {
    this.counts.received++;
    this.counts.duplicate++;
    this.sightings.push({ eventId: id, relay });
    this.armTimer();
  }

  /** Counts a value rejected before it reached the pipeline (e.g. an unparseable import line). */
  countRejected(item: PipelineItem, reason: string): void {
    this.counts.received++;
    this.reject(item, reason);
  }

  /**
   * Runs `work` inside the transaction that commits every event submitted before this call, and
   * resolves after that commit. A coverage cursor written this way can never claim events that are
   * not yet stored: the range and its events commit together or not at all.
   */
  mark(work: (tx: Queryable) => Promise<void>): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.markers.push({ work, resolve, reject });
      this.armTimer();
    });
  }

  /** Takes one raw value. Resolves once it is buffered; waits while the pipeline is full. */
  async submit(item: PipelineItem): Promise<void> {
    if (this.failure) throw this.failure;
    // Backpressure: while every batch slot is taken, each caller waits here. A relay connection
    // pauses its socket once enough submits are pending, so a burst waits in the relay's socket
    // instead of in memory (before, only the one caller per batch waited).
    if (this.inflight.length >= (this.options.maxPendingBatches ?? 3)) {
      await this.waitForRoom(this.options.maxPendingBatches ?? 3);
      if (this.failure) throw this.failure;
    }
    this.counts.received++;
    const now = this.now();
    const shape = checkEventShape(item.value, {
      now,
      maxFutureSeconds: this.options.maxFutureSeconds,
      maxEventBytes: this.options.maxEventBytes,
      ...(item.bytes !== undefined ? { serializedBytes: item.bytes } : {}),
    });
    if (!shape.ok) return this.reject(item, shape.reason);
    const event = shape.event;
    // Cheap drops before any crypto: these are never stored, whoever signed them.
    if (kindClass(event.kind) === 'ephemeral') {
      this.counts.ephemeral++;
      return;
    }
    const expiresAt = expirationOf(event);
    if (expiresAt !== null && expiresAt <= now) {
      this.counts.expired++;
      return;
    }
    const unstorable = unstorableReason(event);
    if (unstorable) return this.reject(item, unstorable);
    this.admit({ item, event });
    if (this.buffer.length >= this.options.batchSize) await this.dispatch();
    else this.armTimer();
  }

  /** Writes everything buffered and waits for every batch in flight. */
  async flush(): Promise<void> {
    this.clearTimer();
    // A rejected copy can re-admit a waiting one, so loop until nothing is left.
    while (this.buffer.length > 0 || this.inflight.length > 0 || this.sightings.length > 0 || this.markers.length > 0) {
      if (this.failure) throw this.failure;
      if (this.buffer.length > 0 || this.sightings.length > 0 || this.markers.length > 0) await this.dispatch(0);
      await this.waitForRoom(1);
    }
    if (this.failure) throw this.failure;
  }

  private admit(admitted: Admitted): void {
    const { item, event } = admitted;
    if (item.relay !== null) this.sightings.push({ eventId: event.id, relay: item.relay });
    const verdict = this.seen.admit(event.id, admitted);
    if (verdict === 'new') this.buffer.push(admitted);
    else if (verdict === 'known') this.counts.duplicate++;
    // 'waiting': settled when the pending copy's verification ends.
  }

  private reject(item: PipelineItem, reason: string): void {
    this.counts.invalid[reason] = (this.counts.invalid[reason] ?? 0) + 1;
    for (const listener of this.rejectListeners) listener(item, reason);
  }

  private armTimer(): void {
    if (this.timer || (this.buffer.length === 0 && this.markers.length === 0 && this.sightings.length === 0)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.dispatch().catch(() => {}); // a failure is kept in this.failure and surfaces on the next call
    }, this.options.maxBatchDelayMs ?? 250);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async dispatch(maxPending = this.options.maxPendingBatches ?? 3): Promise<void> {
    this.clearTimer();
    const chunk = this.buffer;
    const sightings = this.sightings;
    const markers = this.markers;
    this.buffer = [];
    this.sightings = [];
    this.markers = [];
    const checked = this.check(chunk);
    checked.catch(() => {}); // awaited in write(); avoid an unhandled rejection meanwhile
    const written = this.writeChain.then(() => this.write(chunk, checked, sightings, markers));
    this.writeChain = written.then(
      () => {
        for (const m of markers) m.resolve();
      },
      (error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
        this.options.log?.error({ err: this.failure }, 'ingest batch failed');
        for (const m of markers) m.reject(this.failure);
      },
    );
    const chain = this.writeChain;
    this.inflight.push(chain);
    // Each batch leaves the list when it settles; waiters registered later see it gone.
    void chain.then(() => {
      const at = this.inflight.indexOf(chain);
      if (at >= 0) this.inflight.splice(at, 1);
    });
    await this.waitForRoom(maxPending + 1);
    if (this.failure) throw this.failure;
  }

  /** Resolves once fewer than `limit` batches are in flight. */
  private async waitForRoom(limit: number): Promise<void> {
    while (this.inflight.length >= limit) await this.inflight[0];
  }

  /** Stored ids are duplicates; the rest go to the verification pool. */
  private async check(chunk: Admitted[]): Promise<Checked> {
    if (chunk.length === 0) return { stored: new Set(), results: new Map() };
    const ids = chunk.map((a) => a.event.id);
    const rows = await this.retrying('dedupe lookup', () =>
      query<{ event_id: string }>(this.options.db, sql`SELECT event_id FROM nostr_events WHERE event_id IN ${textSet(ids)}`),
    );
    const stored = new Set(rows.map((r) => r.event_id));
    const toVerify = chunk.filter((a) => !stored.has(a.event.id)).map((a) => a.event);
    const verdicts = await this.options.verifier.verify(toVerify);
    const results = new Map<string, VerifyResult>();
    toVerify.forEach((event, i) => results.set(event.id, verdicts[i]!));
    return { stored, results };
  }

  private async write(
    chunk: Admitted[],
    checked: Promise<Checked>,
    sightings: WriteOptions['sightings'],
    markers: Marker[],
  ): Promise<void> {
    const { stored, results } = await checked;
    const batch: NormalizedEvent[] = [];
    const confirmed: string[] = [];
    for (const admitted of chunk) {
      const { item, event } = admitted;
      if (stored.has(event.id)) {
        this.counts.duplicate++;
        confirmed.push(event.id);
        continue;
      }
      const verdict = results.get(event.id);
      if (verdict !== 'ok') {
        this.reject(item, verdict ?? 'unverified');
        const next = this.seen.reject(event.id);
        if (next) this.buffer.push(next);
        continue;
      }
      try {
        batch.push(normalizeEvent(event, this.options.normalizeOptions));
        confirmed.push(event.id);
      } catch (error) {
        // Normalisers are total by design; if one ever throws, count it, keep going.
        this.options.log?.error({ err: error, id: event.id }, 'normalisation failed');
        this.reject(item, 'normalize_error');
        this.seen.reject(event.id);
      }
    }
    const extra = this.options.inTransaction;
    const inTransaction =
      markers.length === 0 && !extra
        ? undefined
        : async (tx: Queryable) => {
            if (extra) await extra(tx);
            for (const m of markers) await m.work(tx);
          };
    const result = await this.retrying('write batch', () =>
      writeBatch(this.options.writeDb ?? this.options.db, batch, {
        normalizeOptions: this.options.normalizeOptions,
        ...(sightings ? { sightings } : {}),
        ...(inTransaction ? { inTransaction } : {}),
      }),
    );
    this.counts.accepted += result.inserted;
    this.counts.duplicate += result.duplicates;
    this.counts.superseded += result.superseded;
    this.counts.deletedOnArrival += result.deleted;
    for (const [reason, n] of Object.entries(result.unstorable)) this.counts.invalid[reason] = (this.counts.invalid[reason] ?? 0) + n;
    for (const id of confirmed) this.counts.duplicate += this.seen.confirm(id).length;
    this.options.onBatchWritten?.(result);
  }

  /** Database outages are waited out: the batch stays in memory and readers stay paused meanwhile. */
  private async retrying<T>(what: string, work: () => Promise<T>): Promise<T> {
    const maxAttempts = this.options.maxWriteAttempts ?? 30;
    let delay = this.options.retryDelayMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTimeout(work(), this.options.operationTimeoutMs ?? 120_000, what);
      } catch (error) {
        if (attempt >= maxAttempts) throw error;
        this.retries++;
        await this.options.onDatabaseError?.(error).catch(() => {});
        this.options.log?.warn({ err: error, attempt, retryInMs: delay }, `${what} failed; retrying`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  /** Database operations retried since start (health). */
  retries = 0;

  /** Flushes, then stops accepting. Does not close the verifier or database (owned by the caller). */
  async close(): Promise<void> {
    await this.flush();
    this.failure ??= new Error('pipeline closed');
  }
}

/** Rejects if `promise` has not settled in `ms` (a query lost on a dead connection never settles). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'CONNECTION_CLOSED' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
