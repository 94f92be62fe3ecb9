/**
 * The late-arrival settle window, run: on the daemon's tick, the covered pieces of each (relay,
 * scope) that a trailing window says are due (settle-window.ts: by default the last hour when
 * proven more than 5 minutes ago, the last day when proven more than an hour ago) are re-checked
 * by a backfill that ignores coverage (`recheck`): NIP-77 where the relay supports it (one round
 * trip when in sync), paging otherwise. The re-check records its proof time, so it is not due again
 * before its window's period. A relay that (re)connects has its shortest window re-checked at once:
 * a resubscription re-reads at least that much, whenever it was proven. One pass at a time.
 */
import type { Filter } from 'nostr-tools/filter';
import type { AppDatabase, Queryable } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { mergeRanges, type ProvenRange, type Range } from '../../ranges.js';
import { loadProofs, pruneProofs } from '../../store/coverage-proofs.js';
import { loadRelayLearned } from '../../store/ingest-state.js';
import { unixSeconds, type Clock } from '../clock.js';
import type { LearnedCapabilities } from '../fleet/capabilities.js';
import { fetchRelayInformation } from '../fleet/nip11.js';
import type { Scope } from '../fleet/relay-set.js';
import type { IngestPipeline } from '../pipeline/pipeline.js';
import type { RelayConnection, RelayStatus } from '../relay/connection.js';
import { backfill } from './backfill.js';
import { supportedNipsOf } from './backfill-nip77.js';
import { coverageKey, splitCoverageKey, type CoverageBook } from './book.js';
import { provenPieces, settleWork, type SettleWindow } from './settle-window.js';

export interface SettleRecord {
  at: string;
  relay: string;
  scope: string;
  range: Range;
  /** Why: a window came due, or the relay (re)connected. */
  reason: 'due' | 'resubscribed';
  /** How the relay was compared: NIP-77 (reconciled ranges) or paging. */
  method: 'nip77' | 'paging';
  /** Events fetched: late arrivals (and copies already stored, when paged). */
  events: number;
  error?: string;
}

export interface SettleSchedulerOptions {
  db: AppDatabase;
  pipeline: IngestPipeline;
  log: Logger;
  book: CoverageBook;
  scopes: Record<string, Scope>;
  /** The trailing windows (settle-window.ts); empty turns the settle window off. */
  windows: readonly SettleWindow[];
  now: Clock;
  signal: AbortSignal;
  /** The daemon's connection to `relay`, if any. */
  connection: (relay: string) => RelayConnection | undefined;
  /** Events asked per page. */
  pageLimit: (relay: string) => number;
  learned: (relay: string, patch: Partial<LearnedCapabilities>) => void;
  fence: (tx: Queryable, relay: string) => Promise<boolean>;
}

const KEEP_RECORDS = 100;
/** A relay's NIP-11 `supported_nips` is looked up again after this long. */
const NIPS_TTL_MS = 3_600_000;

export class SettleScheduler {
  readonly records: SettleRecord[] = [];
  private running: Promise<void> | null = null;
  private lastCheckAt = -Infinity;
  private lastPruneAt = -Infinity;
  /** Relays that (re)connected since their last pass: their shortest window is re-checked. */
  private readonly resubscribed = new Set<string>();
  private readonly status = new WeakMap<RelayConnection, RelayStatus>();
  private readonly nips = new Map<string, { value: ReadonlyArray<number | string> | null; at: number }>();
  private readonly checkMs: number;

  constructor(private readonly o: SettleSchedulerOptions) {
    // Looking for due work costs one read of coverage_proofs: every tenth of the shortest period, 1-10 s.
    const shortest = Math.min(...o.windows.map((w) => w.everySeconds));
    this.checkMs = Number.isFinite(shortest) ? Math.min(10_000, Math.max(1_000, (shortest * 1000) / 10)) : Infinity;
  }

  /** The pass in flight, if any (stop waits for it). */
  get current(): Promise<void> | null {
    return this.running;
  }

  /** A connection's status changed: a (re)connect makes the shortest window due for its relay. */
  observe(relay: string, connection: RelayConnection, status: RelayStatus): void {
    if (status === 'connected' && this.status.get(connection) !== 'connected' && this.o.windows.length > 0) this.resubscribed.add(relay);
    this.status.set(connection, status);
  }

  /** Starts a pass when one may be due; returns at once. */
  run(): void {
    const now = this.o.now();
    if (this.running || this.o.windows.length === 0 || this.o.signal.aborted) return;
    // A (re)connected relay is re-checked at once; due work is looked for every checkMs.
    if (now - this.lastCheckAt < this.checkMs && this.resubscribed.size === 0) return;
    this.lastCheckAt = now;
    this.running = this.pass()
      .catch((error: unknown) => this.o.log.warn({ err: error }, 'settle window pass failed; retried at the next check'))
      .finally(() => {
        this.running = null;
      });
  }

  private async pass(): Promise<void> {
    const now = unixSeconds(this.o.now);
    const proofs = new Map<string, ProvenRange[]>();
    for (const row of await loadProofs(this.o.db)) {
      const key = coverageKey(row.relay, row.scope);
      proofs.set(key, [...(proofs.get(key) ?? []), row]);
    }
    const shortest = Math.min(...this.o.windows.map((w) => w.spanSeconds));
    // Taken now: a reconnect during this pass makes its relay due again at the next one.
    const forcedRelays = new Set(this.resubscribed);
    this.resubscribed.clear();
    for (const [key, ranges] of [...this.o.book.entries()]) {
      if (this.o.signal.aborted) return;
      const [relay, scopeName] = splitCoverageKey(key);
      const scope = this.o.scopes[scopeName];
      const connection = this.o.connection(relay);
      if (!scope || scope.batch || !connection || connection.state().status !== 'connected') continue;
      const pieces = provenPieces(ranges, proofs.get(key) ?? []);
      const due = settleWork(this.o.windows, pieces, now);
      const forced = forcedRelays.has(relay) ? settleWork([{ spanSeconds: shortest, everySeconds: -1 }], pieces, now) : [];
      for (const range of mergeRanges([...due, ...forced])) {
        const reason = forced.some((f) => f.since <= range.until && f.until >= range.since) ? 'resubscribed' : 'due';
        await this.recheck(connection, relay, scopeName, scope, range, reason);
      }
    }
    if (this.o.now() - this.lastPruneAt > NIPS_TTL_MS) {
      this.lastPruneAt = this.o.now();
      // No window reaches proofs older than the longest span: they only take room.
      await pruneProofs(this.o.db, now - Math.max(...this.o.windows.map((w) => w.spanSeconds)) - 3_600);
    }
  }

  private async recheck(connection: RelayConnection, relay: string, scopeName: string, scope: Scope, range: Range, reason: SettleRecord['reason']): Promise<void> {
    const record: SettleRecord = { at: new Date(this.o.now()).toISOString(), relay, scope: scopeName, range, reason, method: 'paging', events: 0 };
    try {
      const result = await backfill(
        { connection, relay, scope: scopeName, filter: scope.filter as Filter },
        {
          db: this.o.db,
          pipeline: this.o.pipeline,
          log: this.o.log,
          since: range.since,
          until: range.until,
          recheck: true,
          supportedNips: await this.supportedNips(relay),
          pageLimit: this.o.pageLimit(relay),
          signal: this.o.signal,
          fence: (tx) => this.o.fence(tx, relay),
          now: this.o.now,
        },
      );
      record.events = result.events;
      record.method = result.negentropy.reconciled > 0 && result.pages === 0 ? 'nip77' : 'paging';
      this.o.learned(relay, result.learned);
      if (result.events > 0) this.o.log.info({ relay, scope: scopeName, range, events: result.events }, 'settle window: late arrivals fetched');
    } catch (error) {
      record.error = (error as Error).message;
      this.o.log.warn({ err: error, relay, scope: scopeName, range }, 'settle window re-check failed; retried when due');
    } finally {
      this.records.push(record);
      if (this.records.length > KEEP_RECORDS) this.records.shift();
    }
  }

  /** NIP-11 `supported_nips` (stored by the daemon, else fetched), cached: a pass asks no relay twice. */
  private async supportedNips(relay: string): Promise<ReadonlyArray<number | string> | null> {
    const cached = this.nips.get(relay);
    if (cached && this.o.now() - cached.at < NIPS_TTL_MS) return cached.value;
    const value = supportedNipsOf((await loadRelayLearned(this.o.db, relay))?.nip11 ?? (await fetchRelayInformation(relay, 3_000)));
    this.nips.set(relay, { value, at: this.o.now() });
    return value;
  }
}
