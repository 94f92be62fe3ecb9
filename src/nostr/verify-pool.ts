/**
 * Signature verification off the main thread: a small worker_threads pool, each worker holding its
 * own secp256k1 verifier (native or WASM, see verify.ts). Events go in chunks to amortise
 * postMessage; every worker has at most `maxInFlightPerWorker` chunks outstanding, the rest wait in
 * the pool's queue, and callers await their results, so work is bounded by what callers have handed in. A crashed worker is
 * replaced; its in-flight chunks are retried once, then fail with an error rather than hang.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { NostrEvent } from './types.js';
import { initVerifier, serializeForId, verifierBackend, verifyEventSync, VERIFY_RESULTS } from './verify.js';
import type { VerifyBackendChoice, VerifyBackendName, VerifyResult } from './verify.js';
import { VERIFY_WORKER_ROLE } from './verify-worker.js';
import type { VerifyChunkMessage, VerifyWorkerMessage } from './verify-worker.js';

export type { VerifyResult } from './verify.js';

export interface VerifyPoolOptions {
  /** Worker threads; 0 verifies inline on the calling thread. Default: os.availableParallelism(). */
  size?: number;
  /** Most events per chunk sent to a worker (default 256). */
  batchSize?: number;
  /** Chunks a worker may hold at once; 2 keeps it busy while its last answer travels back. */
  maxInFlightPerWorker?: number;
  /** Which secp256k1 build verifies (verify.ts); default `auto`. */
  backend?: VerifyBackendChoice;
}

export interface VerifyPoolStats {
  workers: number;
  queuedChunks: number;
  inFlightChunks: number;
  /** Workers replaced after a crash since the pool started. */
  restarts: number;
}

const DEFAULT_BATCH_SIZE = 256;
// Below this, a chunk costs more in messaging than it saves by spreading over workers.
const MIN_CHUNK = 16;
const MAX_ATTEMPTS = 2;
const MAX_START_FAILURES = 3;
const WORKER_YOUNG_GENERATION_MB = 8;

interface Chunk {
  seq: number;
  data: string[];
  attempts: number;
  resolve: (codes: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  inFlight: Map<number, Chunk>;
  startFailures: number;
  lastError: Error | null;
  /** Settles when the first worker of this slot is ready or dies trying (used by create()). */
  started: Promise<void>;
}

interface WorkerTarget {
  /** A file URL, or bootstrap source code when `evalCode` is set. */
  entry: URL | string;
  evalCode: boolean;
}

/**
 * How to start the worker in the three ways this module runs. Compiled (dist/…/verify-pool.js has
 * verify-worker.js beside it): plain Node loads it. From TypeScript source, under tsx or vitest:
 * Node 20 applies no loader to a worker's entry, neither an inherited `--import tsx` nor one passed
 * in execArgv (both fail with "Unknown file extension .ts"), so a small bootstrap registers tsx's
 * ESM hooks inside the worker first and then imports the .ts worker.
 */
function resolveWorkerTarget(): WorkerTarget {
  const js = new URL('./verify-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { entry: js, evalCode: false };
  const ts = new URL('./verify-worker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(ts))) {
    throw new Error(`verify worker not found next to ${fileURLToPath(import.meta.url)} (.js or .ts)`);
  }
  if (typeof import.meta.resolve !== 'function') {
    throw new Error('running verify-pool from TypeScript source needs import.meta.resolve to find tsx');
  }
  // Resolved from this file, not the cwd, so it works wherever the process was started.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  // No catch: a failed import is an uncaught error in the worker, which the pool reports.
  const entry =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(ts.href)}); });`;
  return { entry, evalCode: true };
}

export class VerifyPool {
  readonly size: number;
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly target: WorkerTarget | null;
  private readonly backendChoice: VerifyBackendChoice;
  /** The backend the workers (or this thread, inline) loaded. */
  backend: VerifyBackendName | null = null;
  private readonly slots: Slot[] = [];
  private readonly queue: Chunk[] = [];
  private nextSeq = 0;
  private restarts = 0;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Set when no worker can be started any more; every later verify() rejects with it. */
  private broken: Error | null = null;

  private constructor(opts: VerifyPoolOptions) {
    this.size = opts.size ?? availableParallelism();
    this.batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
    this.maxInFlight = opts.maxInFlightPerWorker ?? 2;
    this.backendChoice = opts.backend ?? 'auto';
    if (!Number.isInteger(this.size) || this.size < 0) throw new Error(`invalid pool size ${this.size}`);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new Error(`invalid batchSize ${this.batchSize}`);
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) {
      throw new Error(`invalid maxInFlightPerWorker ${this.maxInFlight}`);
    }
    this.target = this.size > 0 ? resolveWorkerTarget() : null;
  }

  /** Starts the workers and resolves once every one has loaded its verifier. */
  static async create(opts: VerifyPoolOptions = {}): Promise<VerifyPool> {
    const pool = new VerifyPool(opts);
    if (pool.size === 0) {
      await initVerifier(pool.backendChoice);
      pool.backend = verifierBackend();
      return pool;
    }
    for (let i = 0; i < pool.size; i++) pool.slots.push(pool.startSlot());
    try {
      await Promise.all(pool.slots.map((s) => s.started));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Verifies id and signature of each event; results are in input order. */
  async verify(events: readonly NostrEvent[]): Promise<VerifyResult[]> {
    if (this.closed) throw new Error('VerifyPool is closed');
    if (events.length === 0) return [];
    if (this.size === 0) return this.verifyInline(events);
    if (this.broken) throw this.broken;

    // Spread small calls over all workers, but never below MIN_CHUNK events per message.
    const perWorker = Math.ceil(events.length / this.size);
    const chunkSize = Math.max(MIN_CHUNK, Math.min(this.batchSize, perWorker));
    const parts: Promise<Uint8Array>[] = [];
    for (let start = 0; start < events.length; start += chunkSize) {
      const end = Math.min(events.length, start + chunkSize);
      // Only what the worker needs: four strings per event, no object graph to clone.
      const data = new Array<string>((end - start) * 4);
      for (let i = start, k = 0; i < end; i++) {
        const e = events[i]!;
        data[k++] = e.id;
        data[k++] = e.pubkey;
        data[k++] = e.sig;
        data[k++] = serializeForId(e);
      }
      parts.push(
        new Promise<Uint8Array>((resolve, reject) => {
          this.queue.push({ seq: this.nextSeq++, data, attempts: 0, resolve, reject });
        }),
      );
    }
    this.pump();

    const codes = await Promise.all(parts);
    const out = new Array<VerifyResult>(events.length);
    let i = 0;
    for (const chunk of codes) for (const code of chunk) out[i++] = VERIFY_RESULTS[code]!;
    return out;
  }

  stats(): VerifyPoolStats {
    let inFlight = 0;
    for (const s of this.slots) inFlight += s.inFlight.size;
    return { workers: this.slots.length, queuedChunks: this.queue.length, inFlightChunks: inFlight, restarts: this.restarts };
  }

  /** Terminates the workers; pending calls reject. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      const err = new Error('VerifyPool closed');
      for (const chunk of this.queue.splice(0)) chunk.reject(err);
      for (const slot of this.slots) {
        for (const chunk of slot.inFlight.values()) chunk.reject(err);
        slot.inFlight.clear();
      }
      await Promise.all(this.slots.map((s) => s.worker.terminate()));
    })();
    return this.closing;
  }

  private async verifyInline(events: readonly NostrEvent[]): Promise<VerifyResult[]> {
    const out = new Array<VerifyResult>(events.length);
    for (let i = 0; i < events.length; i++) {
      out[i] = verifyEventSync(events[i]!);
      // Let I/O run between batches: inline mode must not freeze the daemon on a big call.
      if ((i + 1) % this.batchSize === 0 && i + 1 < events.length) await yieldToEventLoop();
    }
    return out;
  }

  private spawn(): Worker {
    const target = this.target!;
    return new Worker(target.entry, {
      eval: target.evalCode,
      workerData: { role: VERIFY_WORKER_ROLE, backend: this.backendChoice },
      // A worker holds two chunks of strings at a time: a small young generation is plenty, and
      // V8's default (tens of MB per thread, filled before each scavenge) is most of its RSS.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
  }

  private startSlot(): Slot {
    let settle!: { resolve: () => void; reject: (err: Error) => void };
    const started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    started.catch(() => undefined); // observed by create(); a later crash must not be "unhandled"
    const slot: Slot = {
      worker: this.spawn(),
      ready: false,
      inFlight: new Map(),
      startFailures: 0,
      lastError: null,
      started,
    };
    this.attach(slot, settle);
    return slot;
  }

  private attach(slot: Slot, settle: { resolve: () => void; reject: (err: Error) => void } | null): void {
    const worker = slot.worker;
    worker.on('message', (msg: VerifyWorkerMessage) => {
      if (slot.worker !== worker) return;
      if (msg.type === 'ready') {
        slot.ready = true;
        this.backend = msg.backend;
        slot.startFailures = 0;
        settle?.resolve();
        this.pump();
        return;
      }
      const chunk = slot.inFlight.get(msg.seq);
      if (!chunk) return;
      slot.inFlight.delete(msg.seq);
      chunk.resolve(msg.codes);
      this.pump();
    });
    // Without a listener a worker's uncaught error would be thrown in this thread.
    worker.on('error', (err) => {
      if (slot.worker === worker) slot.lastError = err;
    });
    worker.on('exit', (code) => {
      if (slot.worker !== worker || this.closed) return;
      this.onWorkerExit(slot, code, settle);
    });
  }

  private onWorkerExit(
    slot: Slot,
    code: number,
    settle: { resolve: () => void; reject: (err: Error) => void } | null,
  ): void {
    const cause = slot.lastError ? `: ${slot.lastError.message}` : '';
    const wasReady = slot.ready;
    slot.ready = false;
    slot.lastError = null;

    // Chunks it held go back to the front of the queue once, then fail.
    const orphans = [...slot.inFlight.values()].sort((a, b) => a.seq - b.seq);
    slot.inFlight.clear();
    const retry: Chunk[] = [];
    for (const chunk of orphans) {
      if (chunk.attempts >= MAX_ATTEMPTS) {
        chunk.reject(new Error(`verify worker died (exit code ${code}${cause}) on the same chunk twice`));
      } else {
        retry.push(chunk);
      }
    }
    this.queue.unshift(...retry);

    if (!wasReady) {
      slot.startFailures++;
      const err = new Error(`verify worker failed to start (exit code ${code}${cause})`);
      if (settle) {
        // During create(): report instead of retrying, so a broken setup fails fast.
        settle.reject(err);
        return;
      }
      if (slot.startFailures >= MAX_START_FAILURES) {
        this.slots.splice(this.slots.indexOf(slot), 1);
        if (this.slots.length === 0) this.fail(err);
        else this.pump();
        return;
      }
    }
    this.restarts++;
    slot.worker = this.spawn();
    this.attach(slot, null);
  }

  /** No worker left: reject everything waiting and every later call. */
  private fail(err: Error): void {
    this.broken = err;
    for (const chunk of this.queue.splice(0)) chunk.reject(err);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let best: Slot | null = null;
      for (const s of this.slots) {
        if (s.ready && s.inFlight.size < this.maxInFlight && (!best || s.inFlight.size < best.inFlight.size)) best = s;
      }
      if (!best) return;
      const chunk = this.queue.shift()!;
      chunk.attempts++;
      best.inFlight.set(chunk.seq, chunk);
      best.worker.postMessage({ seq: chunk.seq, data: chunk.data } satisfies VerifyChunkMessage);
    }
  }
}

/**
 * @internal Test support only: the pool's current worker threads, so a test can terminate one
 * mid-chunk and watch the pool recover. Not for production code.
 */
export function workersOf(pool: VerifyPool): Worker[] {
  return pool['slots'].map((slot) => slot.worker);
}
