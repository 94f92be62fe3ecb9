/**
 * Hole repair: now and then (repairIntervalMs), the newest gap in the coverage of a (relay, scope)
 * is backfilled over the daemon's own connection and pipeline, one repair at a time. A relay that
 * ignores `until` (and offers no NIP-77) cannot fill a hole: that is reported once and the hole left
 * until the relay's refusal is due for a re-check.
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
import { splitCoverageKey, type CoverageBook } from './book.js';

export interface RepairRecord {
  at: string;
  relay: string;
  scope: string;
  hole: Range;
  events: number;
  error?: string;
}

export interface HoleRepairOptions {
  db: AppDatabase;
  pipeline: IngestPipeline;
  log: Logger;
  book: CoverageBook;
  scopes: Record<string, Scope>;
  /** How often holes are looked for; 0 disables. */
  intervalMs: number;
  now: Clock;
  signal: AbortSignal;
  /** The daemon's connection to `relay` when connected, else undefined. */
  connection: (relay: string) => RelayConnection | undefined;
  /** Events asked per page (NIP-11 max_limit, default 500). */
  pageLimit: (relay: string) => number;
  /** What a repair learned about the relay. */
  learned: (relay: string, patch: Partial<LearnedCapabilities>) => void;
  fence: (tx: Queryable, relay: string) => Promise<boolean>;
}

const KEEP_RECORDS = 100;

export class HoleRepair {
  readonly records: RepairRecord[] = [];
  private running: Promise<void> | null = null;
  private lastRunAt = 0;
  /** Holes reported as impossible to repair (the relay ignores `until`), and when that was learned. */
  private readonly unrepairable = new Map<string, number>();

  constructor(private readonly o: HoleRepairOptions) {}

  /** The repair in flight, if any (stop waits for it). */
  get current(): Promise<void> | null {
    return this.running;
  }

  /** Starts the repair of one hole when due; returns at once. */
  run(): void {
    const now = this.o.now();
    if (this.running || this.o.intervalMs <= 0 || now - this.lastRunAt < this.o.intervalMs) return;
    this.lastRunAt = now;
    for (const [key, ranges] of this.o.book.entries()) {
      const gap = this.o.book.gapsOf(key, ranges).at(-1);
      if (!gap) {
        this.o.book.clearMetWanted(key);
        continue;
      }
      const [relay, scopeName] = splitCoverageKey(key);
      const scope = this.o.scopes[scopeName];
      const connection = this.o.connection(relay);
      if (!scope || scope.batch || !connection || connection.state().status !== 'connected') continue;
      const holeId = `${key}\u0000${gap.since}`;
      // Left until the relay's refusal is due for a re-check (backfill then pages it once more).
      if (now - (this.unrepairable.get(holeId) ?? -Infinity) < RECHECK_LEARNED_AFTER_MS) continue;
      this.start(connection, relay, scopeName, scope, gap, holeId);
      return;
    }
  }

  private start(connection: RelayConnection, relay: string, scopeName: string, scope: Scope, gap: Range, holeId: string): void {
    const record: RepairRecord = { at: new Date(this.o.now()).toISOString(), relay, scope: scopeName, hole: gap, events: 0 };
    this.o.log.info({ relay, scope: scopeName, hole: gap }, 'repairing a coverage hole');
    this.running = backfill(
      { connection, relay, scope: scopeName, filter: scope.filter as Filter },
      {
        db: this.o.db,
        pipeline: this.o.pipeline,
        log: this.o.log,
        since: gap.since,
        until: gap.until,
        pageLimit: this.o.pageLimit(relay),
        signal: this.o.signal,
        fence: (tx) => this.o.fence(tx, relay),
        now: this.o.now,
      },
    )
      .then((result) => {
        record.events = result.events;
        this.o.learned(relay, result.learned);
      })
      .catch((error: unknown) => {
        record.error = (error as Error).message;
        // A relay that ignores `until` (and offers no NIP-77) cannot fill it: reported once, left.
        if (error instanceof RelayIgnoresUntilError) {
          this.unrepairable.set(holeId, Date.parse(error.checkedAt ?? '') || this.o.now());
          this.o.learned(relay, { respectsUntil: false });
          this.o.log.warn({ relay, scope: scopeName, hole: gap }, 'coverage hole left: the relay ignores "until"');
        } else this.o.log.warn({ err: error, relay, scope: scopeName }, 'hole repair failed; will retry');
      })
      .finally(() => {
        this.records.push(record);
        if (this.records.length > KEEP_RECORDS) this.records.shift();
        this.running = null;
      });
  }
}
