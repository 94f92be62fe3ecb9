/**
 * The ingest pipeline, one instance per daemon (or import): raw values in, committed rows out.
 *
 *   submit ─► screen (shape, ephemeral, expired, unstorable) ─► dedupe (memory, copies held) ─┐
 *   ┌──────────────────────────────────────────────────────────────────────────────────────────┘
 *   └► batch (size or time) ─► dedupe (stored) ─► verify (worker pool) ─► normalise ─► writeBatch
 *
 * One stage per file beside this one: screen.ts, copies.ts (copies held across relays),
 * sightings.ts (seen-on rows), markers.ts (coverage cursors in the batch's transaction),
 * batches.ts (slots and backpressure), db-retry.ts. Verification of the next batch overlaps the
 * write of the previous one; `submit` waits while `maxPendingBatches` batches are in flight, so a
 * slow database slows the reader instead of growing memory. Every value ends in exactly one outcome
 * counter.
 */
import type { AppDatabase, Queryable } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { normalizeEvent } from '../../nostr/normalize/index.js';
import type { NormalizeOptions, NormalizedEvent } from '../../nostr/types.js';
import type { VerifyPool, VerifyResult } from '../../nostr/verify-pool.js';
import { peekEventSig, peekEventSigAt } from '../../nostr/relay-frames.js';
import { storedEventSigs } from '../../store/ingest-reads.js';
import { writeBatch, type WriteOptions, type WriteResult } from '../../store/write-batch.js';
import { systemClock, unixSeconds, type Clock } from '../clock.js';
import { BatchSlots, BatchTimer } from './batches.js';
import { copySig, heldItem, isAdmitted, repeatOfPending, type Admitted, type Copy, type PipelineItem } from './copies.js';
import { retrying } from './db-retry.js';
import { carriedMarkers, markerTransaction, type Marker } from './markers.js';
import { emptyOutcomes, type OutcomeCounts } from './outcomes.js';
import { screen } from './screen.js';
import { SeenIds } from './seen-ids.js';
import { PROVEN, provenSightings, Sightings } from './sightings.js';

export type { PipelineItem } from './copies.js';

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
  /** Milliseconds (the ingest clock); screens against its second. */
  now?: Clock;
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

interface Checked {
  /** Ids stored already, with their stored signature. */
  stored: Map<string, string>;
  /** The verdicts of the copies that needed one. */
  results: Map<Admitted, VerifyResult>;
}

export class IngestPipeline {
  readonly counts: OutcomeCounts = emptyOutcomes();
  /** Database operations retried since start (health). */
  retries = 0;
  private readonly seen: SeenIds<Copy>;
  private buffer: Admitted[] = [];
  private readonly sightings = new Sightings();
  private markers: Marker[] = [];
  private readonly slots = new BatchSlots();
  private readonly timer: BatchTimer;
  private failure: Error | null = null;
  private readonly now: Clock;
  private readonly rejectListeners = new Set<(item: PipelineItem, reason: string) => void>();

  constructor(private readonly options: PipelineOptions) {
    this.seen = new SeenIds(options.seenCapacity ?? 500_000);
    this.now = options.now ?? systemClock;
    this.timer = new BatchTimer(options.maxBatchDelayMs ?? 250, () => {
      this.dispatch().catch(() => {}); // a failure is kept in this.failure and surfaces on the next call
    });
  }

  /** Events waiting for a batch, and batches in flight (for health and backpressure tests). */
  get depth(): { buffered: number; pendingBatches: number } {
    return { buffered: this.buffer.length, pendingBatches: this.slots.taken };
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
   * as seen-on, listed only if the copy's signature is the one that verified (sightings.ts). A
   * copy of a verified event under another signature is not taken: parsed, it is verified on its own.
   */
  takeCopy(id: string, relay: string, frame: Buffer): boolean {
    if (repeatOfPending(this.seen, this.sightings, id, relay)) {
      this.counts.received++;
      this.counts.duplicate++;
      return true;
    }
    if (this.seen.isConfirmed(id)) {
      // Read from the bytes, compared as the seen set keeps it (its first 32 bits): no string made.
      const at = peekEventSigAt(frame);
      if (at < 0 || !this.seen.signedAsIn(id, frame, at)) return false;
      this.counts.received++;
      this.counts.duplicate++;
      this.sightings.add(id, relay, PROVEN);
      this.armTimer();
      return true;
    }
    const sig = peekEventSig(frame);
    // Copied only when held (the socket's buffer is reused; a verified copy needs nothing).
    const taken = this.seen.takeCopy(id, () => ({ frame: Buffer.from(frame), relay, sig }));
    if (taken === 'unknown') return false;
    this.counts.received++;
    this.sightings.add(id, relay, sig ?? ''); // '' matches no signature
    if (taken === 'waiting') return true; // counted, and its sighting written, with the event's own batch
    this.counts.duplicate++;
    this.armTimer();
    return true;
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
    const awaits = relay === undefined ? [] : this.sightings.idsOf(relay, (id) => this.seen.isPending(id));
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
    const { id, sig } = admitted.event;
    if (item.relay !== null && repeatOfPending(this.seen, this.sightings, id, item.relay)) {
      this.counts.duplicate++;
      return;
    }
    // A verified id under another signature: a forgery (or the author's second signature), which
    // is verified on its own before its relay can be listed.
    if (this.seen.isConfirmed(id) && !this.seen.signedAs(id, sig)) admitted.recheck = true;
    else {
      if (item.relay !== null) this.sightings.add(id, item.relay, sig);
      // Pending from here on, before any wait: copies from other relays meanwhile are held unparsed.
      const verdict = this.seen.admit(id, admitted);
      if (verdict === 'known') {
        this.counts.duplicate++;
        this.armTimer();
      }
      if (verdict !== 'new') return; // 'waiting': settled when the pending copy's verification ends
    }
    // Backpressure: while every batch slot is taken, each caller with a new event waits here. A
    // relay connection pauses its socket once enough submits are pending, so a burst waits in the
    // relay's socket instead of in memory.
    const maxPending = this.options.maxPendingBatches ?? 3;
    if (this.slots.taken >= maxPending) {
      await this.slots.waitForRoom(maxPending);
      if (this.failure) throw this.failure;
    }
    this.buffer.push(admitted);
    if (this.buffer.length >= this.options.batchSize) await this.dispatch();
    else this.armTimer();
  }

  /** Writes everything buffered and waits for every batch in flight. */
  async flush(): Promise<void> {
    this.timer.clear();
    // A rejected copy can re-admit a waiting one, so loop until nothing is left.
    while (this.buffer.length > 0 || this.slots.taken > 0 || this.markers.length > 0) {
      if (this.failure) throw this.failure;
      if (this.buffer.length > 0 || this.markers.length > 0) await this.dispatch(0);
      await this.slots.waitForRoom(1);
    }
    // Sightings of events decided before (every event is decided now).
    if (this.sightings.size > 0 && !this.failure) {
      await this.dispatch(0);
      await this.slots.waitForRoom(1);
    }
    if (this.failure) throw this.failure;
  }

  /** Flushes, then stops accepting. Does not close the verifier or database (owned by the caller). */
  async close(): Promise<void> {
    await this.flush();
    this.failure ??= new Error('pipeline closed');
  }

  /** The screen's verdict counted: the event, or null when it was dropped or rejected. */
  private screen(item: PipelineItem): Admitted | null {
    const verdict = screen(item.value, item.bytes, this.options, unixSeconds(this.now));
    if (verdict.ok) return { item, event: verdict.event };
    if ('dropped' in verdict) this.counts[verdict.dropped]++;
    else this.reject(item, verdict.rejected);
    return null;
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
  private promote(id: string, copy: Copy | undefined): void {
    for (let next = copy; next !== undefined; next = this.seen.reject(id)) {
      const admitted = isAdmitted(next) ? next : this.screen(heldItem(next));
      // A relay whose held frame was no valid copy of `id` has not been seen holding it.
      if (!isAdmitted(next) && (admitted === null || admitted.event.id !== id)) this.sightings.remove(id, next.relay);
      if (admitted === null) continue;
      if (admitted.event.id !== id) {
        // The frame's peeked id was not its event's (a malformed frame): it is not a copy of `id`.
        if (admitted.item.relay !== null) this.sightings.add(admitted.event.id, admitted.item.relay, admitted.event.sig);
        this.admit(admitted);
        continue;
      }
      // Its relay holds the event (again listed, if its own earlier copy was the forgery).
      if (admitted.item.relay !== null) this.sightings.add(id, admitted.item.relay, admitted.event.sig);
      this.buffer.push(admitted);
      this.armTimer();
      return;
    }
  }

  /**
   * A copy held beside the pending one of `id` that verified under another signature: verified on
   * its own in a later batch (counted by its verdict; its relay listed only if it holds).
   */
  private recheck(id: string, copy: Copy): void {
    const admitted = isAdmitted(copy) ? copy : this.screen(heldItem(copy));
    if (admitted === null) return;
    if (admitted.event.id !== id) {
      // A malformed frame whose peeked id was not its event's: a copy of another event.
      if (admitted.item.relay !== null) this.sightings.add(admitted.event.id, admitted.item.relay, admitted.event.sig);
      return this.admit(admitted);
    }
    admitted.recheck = true;
    this.buffer.push(admitted);
    this.armTimer();
  }

  private reject(item: PipelineItem, reason: string): void {
    this.counts.invalid[reason] = (this.counts.invalid[reason] ?? 0) + 1;
    for (const listener of this.rejectListeners) listener(item, reason);
  }

  private armTimer(): void {
    if (this.buffer.length === 0 && this.markers.length === 0 && this.sightings.size === 0) return;
    this.timer.arm();
  }

  private async dispatch(maxPending = this.options.maxPendingBatches ?? 3): Promise<void> {
    this.timer.clear();
    const chunk = this.buffer;
    const markers = this.markers;
    this.buffer = [];
    this.markers = [];
    const checked = this.check(chunk);
    checked.catch(() => {}); // awaited in write(); avoid an unhandled rejection meanwhile
    this.slots.enqueue(() =>
      this.write(chunk, checked, markers).then(
        (carried) => {
          for (const m of markers) if (!carried.has(m)) m.resolve();
        },
        (error: unknown) => {
          this.failure ??= error instanceof Error ? error : new Error(String(error));
          this.options.log?.error({ err: this.failure }, 'ingest batch failed');
          for (const m of markers) m.reject(this.failure);
        },
      ),
    );
    await this.slots.waitForRoom(maxPending + 1);
    if (this.failure) throw this.failure;
  }

  /** Stored ids are duplicates; the rest go to the verification pool. */
  private async check(chunk: Admitted[]): Promise<Checked> {
    if (chunk.length === 0) return { stored: new Map(), results: new Map() };
    const ids = chunk.map((a) => a.event.id);
    const stored = await this.retrying('dedupe lookup', () => storedEventSigs(this.options.db, ids));
    // A copy of a stored event is a duplicate without a check only under the stored signature.
    const toVerify = chunk.filter((a) => stored.get(a.event.id) !== a.event.sig);
    const verdicts = await this.options.verifier.verify(toVerify.map((a) => a.event));
    const results = new Map<Admitted, VerifyResult>();
    toVerify.forEach((a, i) => results.set(a, verdicts[i]!));
    return { stored, results };
  }

  /** Writes a batch; returns the markers carried to a later batch (see mark()). */
  private async write(chunk: Admitted[], checked: Promise<Checked>, markers: Marker[]): Promise<Set<Marker>> {
    // After a failed batch nothing more is written: a later commit could carry a marker (a coverage
    // cursor) past events that were lost with the failed batch.
    if (this.failure) throw this.failure;
    const { stored, results } = await checked;
    const batch: NormalizedEvent[] = [];
    const confirmed: string[] = [];
    /** The signature each confirmed id verified (or is stored) with. */
    const signed = new Map<string, string>();
    for (const admitted of chunk) {
      const { item, event } = admitted;
      const storedSig = stored.get(event.id);
      const verdict = results.get(admitted);
      if (storedSig !== event.sig && verdict !== 'ok') {
        this.reject(item, verdict ?? 'unverified');
        if (admitted.recheck) continue; // its relay was never listed for it
        // A relay that sent a forgery has not been seen holding the event.
        if (item.relay !== null) this.sightings.remove(event.id, item.relay);
        this.promote(event.id, this.seen.reject(event.id));
        continue;
      }
      // Verified on its own: its relay holds the event, whichever signature was stored first.
      if (verdict === 'ok' && item.relay !== null) this.sightings.add(event.id, item.relay, PROVEN);
      if (admitted.recheck) {
        this.counts.duplicate++; // its id was decided before: nothing more to write
        continue;
      }
      if (storedSig !== undefined) {
        this.counts.duplicate++;
        confirmed.push(event.id);
        signed.set(event.id, storedSig);
        continue;
      }
      try {
        batch.push(normalizeEvent(event, this.options.normalizeOptions));
        confirmed.push(event.id);
        signed.set(event.id, event.sig);
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
    // A relay is listed only under the signature that verified (a forgery's relay is not).
    const seenOn = provenSightings(
      this.sightings.take((id) => inBatch.has(id) || !this.seen.isPending(id)),
      (id, sig) => (signed.has(id) ? signed.get(id) === sig : this.seen.signedAs(id, sig)),
    );
    // A marker whose relay sent copies that are still undecided waits for a later batch.
    const carried = carriedMarkers(markers, (id) => inBatch.has(id) || !this.seen.isPending(id));
    if (carried.size > 0) {
      this.markers = [...carried, ...this.markers];
      this.armTimer();
    }
    const inTransaction = markerTransaction(
      markers.filter((m) => !carried.has(m)),
      this.options.inTransaction,
    );
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
    for (const id of confirmed) {
      const sig = signed.get(id)!;
      // Held copies under the signature that verified are duplicates; others are verified on their own.
      for (const copy of this.seen.confirm(id, sig)) {
        if (copySig(copy) === sig) this.counts.duplicate++;
        else this.recheck(id, copy);
      }
    }
    this.options.onBatchWritten?.(result);
    return carried;
  }

  private retrying<T>(what: string, work: () => Promise<T>): Promise<T> {
    const o = this.options;
    return retrying(
      what,
      work,
      {
        ...(o.maxWriteAttempts !== undefined ? { maxAttempts: o.maxWriteAttempts } : {}),
        ...(o.retryDelayMs !== undefined ? { retryDelayMs: o.retryDelayMs } : {}),
        ...(o.operationTimeoutMs !== undefined ? { operationTimeoutMs: o.operationTimeoutMs } : {}),
        ...(o.onDatabaseError ? { onDatabaseError: o.onDatabaseError } : {}),
        ...(o.log ? { log: o.log } : {}),
      },
      () => this.retries++,
    );
  }
}
