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
import { parseRelayFrame } from '../nostr/relay-frames.js';
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

/**
 * A copy of an event being verified, kept as its relay's EVENT frame: parsed only if the pending
 * copy fails verification, so copies from several relays at once cost no parse.
 */
interface HeldCopy {
  /** The frame's bytes, copied (kept off the JavaScript heap: cheaper for the collector). */
  frame: Buffer;
  relay: string;
}

/** Work to run in the transaction that commits everything submitted before it (cursor writes). */
interface Marker {
  work: (tx: Queryable) => Promise<void>;
  /**
   * Ids the marker's relay had sent (submitted or held copies) that were still pending when it was
   * made: the marker commits with or after each of them (see mark()).
   */
  awaits: string[];
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Checked {
  stored: Set<string>;
  results: Map<string, VerifyResult>;
}

export class IngestPipeline {
  readonly counts: OutcomeCounts = emptyOutcomes();
  private readonly seen: SeenIds<Admitted | HeldCopy>;
  private buffer: Admitted[] = [];
  /**
   * Relays each event was seen on, first seen first, until written: with the event's own batch
   * (a seen-on row needs its event stored), or with the next batch for an event decided before.
   */
  private readonly seenOn = new Map<string, string[]>();
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

  /**
   * RelayConnection's duplicate fast path: takes an EVENT frame for event `id` unparsed if that id
   * is known (verified, stored, or being verified) and returns true; false means the frame must be
   * parsed and submitted. A copy of a verified event is a duplicate; a copy of a pending one is held
   * as its frame and parsed only if the pending copy is rejected. Either way its relay is recorded
   * as seen-on.
   */
  takeCopy(id: string, relay: string, frame: Buffer): boolean {
    if (this.repeatOfPending(id, relay)) {
      this.counts.received++;
      this.counts.duplicate++;
      return true;
    }
    // Copied only when held (the socket's buffer is reused; a verified copy needs nothing).
    const taken = this.seen.takeCopy(id, () => ({ frame: Buffer.from(frame), relay }));
    if (taken === 'unknown') return false;
    this.counts.received++;
    this.sighted(id, relay);
    if (taken === 'waiting') return true; // its sighting goes with the event's own batch
    this.counts.duplicate++;
    this.armTimer();
    return true;
  }

  /**
   * A further frame for a pending event from a relay that already has a copy waiting beside it: not
   * held, so one relay cannot fill the waiting places (MAX_WAITING) an honest relay's copy needs.
   * A relay whose own copy is the pending one may still have one held: its first copy may be the
   * forgery and its second the real event.
   */
  private repeatOfPending(id: string, relay: string): boolean {
    if (!(this.seenOn.get(id)?.includes(relay) ?? false)) return false;
    return this.seen.waitingCopies(id).some((copy) => ('event' in copy ? copy.item.relay : copy.relay) === relay);
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
   *
   * With `relay`, the same holds for that relay's copies still pending now, wherever they wait: a
   * copy held beside another relay's pending one (parsed and written later if that one is forged),
   * or a submit waiting for a batch slot. The marker is carried to later batches until they are
   * decided.
   */
  mark(work: (tx: Queryable) => Promise<void>, relay?: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const awaits: string[] = [];
    if (relay !== undefined) {
      for (const [id, relays] of this.seenOn) if (relays.includes(relay) && this.seen.isPending(id)) awaits.push(id);
    }
    return new Promise<void>((resolve, reject) => {
      this.markers.push({ work, awaits, resolve, reject });
      this.armTimer();
    });
  }

  /** Takes one raw value. Resolves once it is buffered; waits while the pipeline is full. */
  async submit(item: PipelineItem): Promise<void> {
    if (this.failure) throw this.failure;
    this.counts.received++;
    const admitted = this.screen(item);
    if (admitted === null) return;
    if (item.relay !== null && this.repeatOfPending(admitted.event.id, item.relay)) {
      this.counts.duplicate++;
      return;
    }
    if (item.relay !== null) this.sighted(admitted.event.id, item.relay);
    // Pending from here on, before any wait: copies from other relays meanwhile are held unparsed.
    const verdict = this.seen.admit(admitted.event.id, admitted);
    if (verdict === 'known') this.counts.duplicate++;
    if (verdict !== 'new') return; // 'waiting': settled when the pending copy's verification ends
    // Backpressure: while every batch slot is taken, each caller with a new event waits here. A
    // relay connection pauses its socket once enough submits are pending, so a burst waits in the
    // relay's socket instead of in memory.
    const maxPending = this.options.maxPendingBatches ?? 3;
    if (this.inflight.length >= maxPending) {
      await this.waitForRoom(maxPending);
      if (this.failure) throw this.failure;
    }
    this.buffer.push(admitted);
    if (this.buffer.length >= this.options.batchSize) await this.dispatch();
    else this.armTimer();
  }

  /** The checks before dedupe: the event, or null when it was counted as dropped or rejected. */
  private screen(item: PipelineItem): Admitted | null {
    const now = this.now();
    const shape = checkEventShape(item.value, {
      now,
      maxFutureSeconds: this.options.maxFutureSeconds,
      maxEventBytes: this.options.maxEventBytes,
      ...(item.bytes !== undefined ? { serializedBytes: item.bytes } : {}),
    });
    if (!shape.ok) {
      this.reject(item, shape.reason);
      return null;
    }
    const event = shape.event;
    // Cheap drops before any crypto: these are never stored, whoever signed them.
    if (kindClass(event.kind) === 'ephemeral') {
      this.counts.ephemeral++;
      return null;
    }
    const expiresAt = expirationOf(event);
    if (expiresAt !== null && expiresAt <= now) {
      this.counts.expired++;
      return null;
    }
    const unstorable = unstorableReason(event);
    if (unstorable) {
      this.reject(item, unstorable);
      return null;
    }
    return { item, event };
  }

  /** Writes everything buffered and waits for every batch in flight. */
  async flush(): Promise<void> {
    this.clearTimer();
    // A rejected copy can re-admit a waiting one, so loop until nothing is left.
    while (this.buffer.length > 0 || this.inflight.length > 0 || this.markers.length > 0) {
      if (this.failure) throw this.failure;
      if (this.buffer.length > 0 || this.markers.length > 0) await this.dispatch(0);
      await this.waitForRoom(1);
    }
    // Sightings of events decided before (every event is decided now).
    if (this.seenOn.size > 0 && !this.failure) {
      await this.dispatch(0);
      await this.waitForRoom(1);
    }
    if (this.failure) throw this.failure;
  }

  private sighted(id: string, relay: string): void {
    const relays = this.seenOn.get(id);
    if (relays === undefined) this.seenOn.set(id, [relay]);
    else if (!relays.includes(relay)) relays.push(relay);
  }

  private admit(admitted: Admitted): void {
    const verdict = this.seen.admit(admitted.event.id, admitted);
    if (verdict === 'new') {
      this.buffer.push(admitted);
      this.armTimer();
    } else if (verdict === 'known') this.counts.duplicate++;
    // 'waiting': settled when the pending copy's verification ends.
  }

  /**
   * `copy` is now the pending copy of `id` (the one before it was rejected): parse a held frame and
   * buffer it for verification. A copy that fails its checks is counted and the next one tried.
   */
  private promote(id: string, copy: Admitted | HeldCopy | undefined): void {
    for (let next = copy; next !== undefined; next = this.seen.reject(id)) {
      const admitted = 'event' in next ? next : this.screen(heldItem(next));
      // A relay whose held frame was no valid copy of `id` has not been seen holding it.
      if (!('event' in next) && (admitted === null || admitted.event.id !== id)) unsighted(this.seenOn, id, next.relay);
      if (admitted === null) continue;
      if (admitted.event.id !== id) {
        // The frame's peeked id was not its event's (a malformed frame): it is not a copy of `id`.
        if (admitted.item.relay !== null) this.sighted(admitted.event.id, admitted.item.relay);
        this.admit(admitted);
        continue;
      }
      // Its relay holds the event (again listed, if its own earlier copy was the forgery).
      if (admitted.item.relay !== null) this.sighted(id, admitted.item.relay);
      this.buffer.push(admitted);
      this.armTimer();
      return;
    }
  }

  private reject(item: PipelineItem, reason: string): void {
    this.counts.invalid[reason] = (this.counts.invalid[reason] ?? 0) + 1;
    for (const listener of this.rejectListeners) listener(item, reason);
  }

  private armTimer(): void {
    if (this.timer || (this.buffer.length === 0 && this.markers.length === 0 && this.seenOn.size === 0)) return;
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
    const markers = this.markers;
    this.buffer = [];
    this.markers = [];
    const checked = this.check(chunk);
    checked.catch(() => {}); // awaited in write(); avoid an unhandled rejection meanwhile
    const written = this.writeChain.then(() => this.write(chunk, checked, markers));
    this.writeChain = written.then(
      (carried) => {
        for (const m of markers) if (!carried.has(m)) m.resolve();
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

  /** Writes a batch; returns the markers carried to a later batch (see mark()). */
  private async write(
    chunk: Admitted[],
    checked: Promise<Checked>,
    markers: Marker[],
  ): Promise<Set<Marker>> {
    // After a failed batch nothing more is written: a later commit could carry a marker (a coverage
    // cursor) past events that were lost with the failed batch.
    if (this.failure) throw this.failure;
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
        // A relay that sent a forgery has not been seen holding the event.
        if (item.relay !== null) unsighted(this.seenOn, event.id, item.relay);
        this.promote(event.id, this.seen.reject(event.id));
        continue;
      }
      try {
        batch.push(normalizeEvent(event, this.options.normalizeOptions));
        confirmed.push(event.id);
      } catch (error) {
        // Normalisers are total by design; if one ever throws, count it, keep going.
        this.options.log?.error({ err: error, id: event.id }, 'normalisation failed');
        this.reject(item, 'normalize_error');
        this.promote(event.id, this.seen.reject(event.id));
      }
    }
    // The sightings to write: of this batch's events, and of events decided before (duplicates of
    // stored events, rejected ones). Those of events still pending stay for their own batch.
    const inBatch = new Set(confirmed);
    const seenOn = new Map<string, string[]>();
    for (const [id, relays] of this.seenOn) {
      if (!inBatch.has(id) && this.seen.isPending(id)) continue;
      seenOn.set(id, relays);
      this.seenOn.delete(id);
    }
    // A marker whose relay sent copies that are still undecided waits for a later batch.
    const carried = new Set<Marker>();
    for (const m of markers) {
      m.awaits = m.awaits.filter((id) => !inBatch.has(id) && this.seen.isPending(id));
      if (m.awaits.length > 0) carried.add(m);
    }
    if (carried.size > 0) {
      this.markers = [...carried, ...this.markers];
      this.armTimer();
    }
    const committing = markers.filter((m) => !carried.has(m));
    const extra = this.options.inTransaction;
    const inTransaction =
      committing.length === 0 && !extra
        ? undefined
        : async (tx: Queryable) => {
            if (extra) await extra(tx);
            for (const m of committing) await m.work(tx);
          };
    const result = await this.retrying('write batch', () =>
      writeBatch(this.options.writeDb ?? this.options.db, batch, {
        normalizeOptions: this.options.normalizeOptions,
        seenOn,
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
    return carried;
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

function unsighted(seenOn: Map<string, string[]>, id: string, relay: string): void {
  const relays = seenOn.get(id);
  const at = relays?.indexOf(relay) ?? -1;
  if (at >= 0) relays!.splice(at, 1);
  if (relays?.length === 0) seenOn.delete(id);
}

/** A held copy as a pipeline item: its frame parsed (a frame that is no EVENT fails the shape check). */
function heldItem(copy: HeldCopy): PipelineItem {
  const frame = parseRelayFrame(copy.frame.toString('utf8'), Number.MAX_SAFE_INTEGER, copy.frame.length);
  return { value: frame.type === 'EVENT' ? frame.event : null, bytes: copy.frame.length, relay: copy.relay };
}

/** Rejects if `promise` has not settled in `ms` (a query lost on a dead connection never settles). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'CONNECTION_CLOSED' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
