/**
 * Hole repair, prompt: a hole is offered the moment it is known (right after the capped EOSE that
 * left it, and for the holes a restart finds, at the first EOSE of their (relay, scope)), and
 * backfilled over the daemon's own connection and pipeline through a RepairQueue: one repair per
 * (relay, scope) at a time, up to `concurrency` at once, so no scope waits behind another. Every
 * `intervalMs` the known holes are offered again (a repair that failed, a relay that reconnected).
 * An explicit hole is cleared only when exactly its interval is proven (book.clearIfProven). A
 * relay that ignores `until` (and offers no NIP-77) cannot fill a hole: that is reported once and
 * the hole left until the relay's refusal is due for a re-check.
 */
import type { Filter } from 'nostr-tools/filter';
import type { AppDatabase, Queryable } from '../../db/client.js';
import type { Logger } from '../../log.js';
import type { Range } from '../../ranges.js';
import type { Clock } from '../clock.js';
import { RECHECK_LEARNED_AFTER_MS, type LearnedCapabilities } from '../fleet/capabilities.js';
import type { Scope } from '../fleet/relay-set.js';
import type { IngestPipeline } from '../pipeline/pipeline.js';
import type { RelayConnection } from '../relay/connection.js';
import { backfill, RelayIgnoresUntilError } from './backfill.js';
import { coverageKey, splitCoverageKey, type CoverageBook } from './book.js';
import { RepairQueue } from './repair-queue.js';

export interface RepairRecord {
  at: string;
  relay: string;
  scope: string;
  hole: Range;
  events: number;
  /** Seconds from the start of the repair to its end. */
  seconds?: number;
  error?: string;
}

export interface HoleRepairOptions {
  db: AppDatabase;
  pipeline: IngestPipeline;
  log: Logger;
  book: CoverageBook;
  scopes: Record<string, Scope>;
  /** How often known holes are offered again; 0 disables repair. */
  intervalMs: number;
  /** Repairs running at once (each (relay, scope) one at a time). */
  concurrency: number;
  now: Clock;
  signal: AbortSignal;
  /** The daemon's connection to `relay` when connected, else undefined. */
  connection: (relay: string) => RelayConnection | undefined;
  /** Events asked per page (NIP-11 max_limit, default 500). */
  pageLimit: (relay: string) => number;
  /** What a repair learned about the relay. */
  learned: (relay: string, patch: Partial<LearnedCapabilities>) => void;
  /** A repair's pages were answered with up to `count` events (asked with `limit`). */
  served?: (relay: string, count: number) => void;
  fence: (tx: Queryable, relay: string) => Promise<boolean>;
}

const KEEP_RECORDS = 100;

export class HoleRepair {
  readonly records: RepairRecord[] = [];
  private readonly queue: RepairQueue;
  private lastRunAt = 0;
  /** Holes reported as impossible to repair (the relay ignores `until`), and when that was learned. */
  private readonly unrepairable = new Map<string, number>();

  constructor(private readonly o: HoleRepairOptions) {
    this.queue = new RepairQueue({
      concurrency: Math.max(1, o.concurrency),
      repair: (key, hole) => this.repair(key, hole),
      onError: (key, hole, error) => this.o.log.warn({ err: error, key, hole }, 'hole repair failed; offered again later'),
    });
  }

  get enabled(): boolean {
    return this.o.intervalMs > 0;
  }

  /** Holes queued or being repaired. */
  get pending(): number {
    return this.queue.pending;
  }

  /** Offers holes of (relay, scope) for repair now. */
  offer(relay: string, scope: string, holes: readonly Range[]): void {
    if (!this.enabled) return;
    for (const hole of holes) this.queue.offer(coverageKey(relay, scope), hole);
  }

  /** Offers every known hole of (relay, scope): at its EOSE, holes a restart found are repaired. */
  offerKnown(relay: string, scope: string): void {
    this.offer(relay, scope, this.o.book.gapsOf(coverageKey(relay, scope)));
  }

  /** Periodically: every known hole of a connected relay is offered again; met wishes are cleared. */
  run(): void {
    const now = this.o.now();
    if (!this.enabled || now - this.lastRunAt < this.o.intervalMs) return;
    this.lastRunAt = now;
    for (const key of this.o.book.keys()) {
      const gaps = this.o.book.gapsOf(key);
      if (gaps.length === 0) {
        this.o.book.clearMetWanted(key);
        continue;
      }
      const [relay, scope] = splitCoverageKey(key);
      if (this.o.connection(relay)?.state().status === 'connected') this.offer(relay, scope, gaps);
    }
  }

  /** Takes no more holes and waits for the running repairs (aborted through the signal). */
  async stop(): Promise<void> {
    this.queue.close();
    await this.queue.idle();
  }

  private async repair(key: string, hole: Range): Promise<void> {
    const [relay, scopeName] = splitCoverageKey(key);
    const scope = this.o.scopes[scopeName];
    const connection = this.o.connection(relay);
    // Not connected: offered again at the next EOSE of the scope, or the next run().
    if (!scope || scope.batch || !connection || connection.state().status !== 'connected' || this.o.signal.aborted) return;
    const holeId = `${key}\u0000${hole.since}`;
    const started = this.o.now();
    // Left until the relay's refusal is due for a re-check (backfill then pages it once more).
    if (started - (this.unrepairable.get(holeId) ?? -Infinity) < RECHECK_LEARNED_AFTER_MS) return;
    const record: RepairRecord = { at: new Date(started).toISOString(), relay, scope: scopeName, hole, events: 0 };
    this.o.log.info({ relay, scope: scopeName, hole }, 'repairing a coverage hole');
    try {
      const result = await backfill(
        { connection, relay, scope: scopeName, filter: scope.filter as Filter },
        {
          db: this.o.db,
          pipeline: this.o.pipeline,
          log: this.o.log,
          since: hole.since,
          until: hole.until,
          pageLimit: this.o.pageLimit(relay),
          signal: this.o.signal,
          fence: (tx) => this.o.fence(tx, relay),
          now: this.o.now,
        },
      );
      record.events = result.events;
      this.o.learned(relay, result.learned);
      if (result.observedPageSize > 0) this.o.served?.(relay, result.observedPageSize);
      // backfill flushed the pipeline: its coverage is committed, so the hole can be checked now.
      const cleared = await this.o.book.clearIfProven(relay, scopeName, hole);
      if (!cleared && this.o.book.explicitHoles(key).some((h) => h.since === hole.since && h.until === hole.until)) {
        record.error = 'not every second of the hole could be proven (see incomplete seconds); kept';
      }
    } catch (error) {
      record.error = (error as Error).message;
      // A relay that ignores `until` (and offers no NIP-77) cannot fill it: reported once, left.
      if (error instanceof RelayIgnoresUntilError) {
        this.unrepairable.set(holeId, Date.parse(error.checkedAt ?? '') || this.o.now());
        this.o.learned(relay, { respectsUntil: false });
        this.o.log.warn({ relay, scope: scopeName, hole }, 'coverage hole left: the relay ignores "until"');
      } else if (this.o.signal.aborted) this.o.log.debug({ relay, scope: scopeName, hole }, 'hole repair stopped with the daemon; the hole is kept');
      else this.o.log.warn({ err: error, relay, scope: scopeName }, 'hole repair failed; will retry');
    } finally {
      record.seconds = (this.o.now() - started) / 1000;
      this.records.push(record);
      if (this.records.length > KEEP_RECORDS) this.records.shift();
    }
  }
}
