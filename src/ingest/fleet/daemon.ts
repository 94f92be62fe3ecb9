/**
 * The live ingest daemon, as orchestration: one connection per relay it owns, one subscription per
 * (relay, scope) (scope-subscriptions.ts, with the cursor rules), events into the shared pipeline,
 * and coverage that only ever claims what is committed (coverage/book.ts). Each job is a stage of
 * its own, owning its state:
 *
 *   ownership.ts            which relays this daemon reads (advisory locks, fair share)
 *   relay-knowledge.ts      NIP-11 limits and learned relay behaviour
 *   batched-scopes.ts       keys of batched scopes
 *   fallback.ts             when fallback relays take a scope over and hand it back (pure),
 *                           and the log of those switches
 *   ../coverage/repair.ts   prompt hole repair (right after a capped EOSE, per (relay, scope), bounded)
 *   ../coverage/settle-scheduler.ts   late arrivals: trailing windows re-checked on a schedule
 *
 * Ownership (several daemons on one Postgres): the daemon connects to a relay only while it holds
 * that relay's lock, primaries and fallbacks alike. On taking a relay over it re-reads the relay's
 * coverage, which the previous owner kept up to what it committed, so the new REQ starts at that
 * cursor minus the overlap: no hole. Coverage writes are fenced by the lock inside their
 * transaction, so a daemon that lost a relay can no longer move its cursor. Relays owned elsewhere
 * are followed through the database: their coverage and status, re-read at each ownership sweep,
 * tell whether a scope is served (readiness, and whether fallbacks are needed).
 */
import type { AppDatabase, DedicatedSession } from '../../db/client.js';
import type { Logger } from '../../log.js';
import type { Range } from '../../ranges.js';
import { systemClock, unixSeconds, type Clock } from '../clock.js';
import { CoverageBook } from '../coverage/book.js';
import { HoleRepair, type RepairRecord } from '../coverage/repair.js';
import { SettleScheduler, type SettleRecord } from '../coverage/settle-scheduler.js';
import type { SettleWindow } from '../coverage/settle-window.js';
import type { IngestPipeline } from '../pipeline/pipeline.js';
import type { RelayConnection, RelayState } from '../relay/connection.js';
import { BatchedScopes } from './batched-scopes.js';
import type { LearnedCapabilities } from './capabilities.js';
import { SwitchLog, decideFallback, initialFallbackState, type ScopeFallbackState, type SwitchRecord } from './fallback.js';
import { RelayOwnership, type OwnershipReport } from './ownership.js';
import { RelayKnowledge } from './relay-knowledge.js';
import type { RelaySet, Scope } from './relay-set.js';
import { ScopeSubscriptions } from './scope-subscriptions.js';

export interface IngestDaemonOptions {
  db: AppDatabase;
  pipeline: IngestPipeline;
  relaySet: RelaySet;
  log: Logger;
  connect: (url: string) => RelayConnection;
  /** A dedicated session for the relay locks (Database.session). */
  openLockSession: () => DedicatedSession;
  /** How often relays this daemon does not own are tried (and owned ones checked): the takeover bound. */
  ownershipIntervalMs?: number;
  /** The owner's lease, renewed every interval; past it, others end its lock session (0: none, as on PGlite). */
  leaseSeconds?: number;
  /** Re-requested before covered_until on every (re)subscription, absorbed by dedupe. */
  overlapSeconds?: number;
  /** Live coverage stops this far behind the clock (relay clocks, events in flight). */
  clockMarginSeconds?: number;
  /** How far back a scope with no coverage starts (older history is backfill's job). */
  initialLookbackSeconds?: number;
  /** All primaries of a scope unhealthy this long: fallbacks take over. */
  fallbackAfterMs?: number;
  /** A recovered primary must be live this long before fallbacks hand the scope back. */
  handBackAfterMs?: number;
  /** How often live coverage advances. */
  tickMs?: number;
  /**
   * How often known holes are offered to repair again (a failed repair, a relay back); holes are
   * repaired at once when found, whatever this is. 0 disables repair.
   */
  repairIntervalMs?: number;
  /** Hole repairs running at once, across (relay, scope)s (each one at a time). */
  repairConcurrency?: number;
  /** Late-arrival settle windows (coverage/settle-window.ts); default none (off). */
  settleWindows?: readonly SettleWindow[];
  /** Fetch NIP-11 documents (limits, REQ ceilings); default true. */
  fetchRelayInfo?: boolean;
  /** The ingest clock (milliseconds). */
  now?: Clock;
}

export interface ScopeHealth {
  scope: string;
  /** Follows batched keys (no time cursor, so no lag). */
  batched: boolean;
  /** Relays of this daemon serving the scope live. */
  servedBy: string[];
  /** Relays owned by another daemon whose coverage of the scope is fresh in the database. */
  servedElsewhere: string[];
  fallbackActive: boolean;
  coveredUntil: number | null;
  lagSeconds: number | null;
  ranges: Record<string, Range[]>;
  holes: Record<string, Range[]>;
}

export class IngestDaemon {
  private readonly switchLog = new SwitchLog();
  private readonly connections = new Map<string, RelayConnection>();
  private readonly book: CoverageBook;
  private readonly subs: ScopeSubscriptions;
  private readonly knowledge: RelayKnowledge;
  private readonly batched: BatchedScopes;
  private readonly repair: HoleRepair;
  private readonly settle: SettleScheduler;
  private readonly ownership: RelayOwnership;
  private readonly fallback = new Map<string, ScopeFallbackState>();
  private readonly stopping = new AbortController();
  private sweeping: Promise<void> | null = null;
  /** Relays acquired while the database could not be read: served at the next sweep. */
  private readonly retryServe = new Set<string>();
  private ownershipTimer: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly now: Clock;
  private readonly o: Required<Omit<IngestDaemonOptions, 'now'>>;
  /** How old a relay's coverage, owned elsewhere, may be while it still counts as serving. */
  private readonly staleAfterSeconds: number;

  constructor(options: IngestDaemonOptions) {
    this.now = options.now ?? systemClock;
    this.o = {
      overlapSeconds: 60,
      clockMarginSeconds: 30,
      initialLookbackSeconds: 3600,
      fallbackAfterMs: 60_000,
      handBackAfterMs: 120_000,
      tickMs: 5000,
      repairIntervalMs: 60_000,
      repairConcurrency: 4,
      settleWindows: [],
      fetchRelayInfo: true,
      ownershipIntervalMs: 10_000,
      leaseSeconds: 0,
      ...options,
    };
    const { db, pipeline, log } = this.o;
    // The owner advances coverage every tick and we re-read it every sweep: allow two of each.
    this.staleAfterSeconds = this.o.clockMarginSeconds + Math.ceil((2 * this.o.tickMs + 2 * this.o.ownershipIntervalMs) / 1000);
    this.ownership = new RelayOwnership({
      openSession: this.o.openLockSession,
      log,
      lease: { seconds: this.o.leaseSeconds, renewEveryMs: this.o.ownershipIntervalMs },
      onLost: (relays) => {
        for (const url of relays) void this.dropRelay(url, 'lock session lost');
      },
    });
    const fence = (tx: Parameters<RelayOwnership['fence']>[0], relay: string) => this.ownership.fence(tx, relay);
    this.book = new CoverageBook({ db, pipeline, log, fence });
    this.knowledge = new RelayKnowledge(db, log);
    this.batched = new BatchedScopes(db, this.o.relaySet.scopes, this.now);
    this.subs = new ScopeSubscriptions({
      ...this.o,
      book: this.book,
      knowledge: this.knowledge,
      now: this.now,
      onHole: (relay, scope, holes) => this.repair.offer(relay, scope, holes),
      onLive: (relay, scope) => this.repair.offerKnown(relay, scope),
    });
    this.repair = new HoleRepair({
      db,
      pipeline,
      log,
      book: this.book,
      scopes: this.o.relaySet.scopes,
      intervalMs: this.o.repairIntervalMs,
      concurrency: this.o.repairConcurrency,
      now: this.now,
      signal: this.stopping.signal,
      connection: (relay) => this.connections.get(relay),
      pageLimit: (relay) => this.knowledge.pageLimit(relay),
      learned: (relay, patch) => this.knowledge.merge(relay, patch),
      served: (relay, count) => this.knowledge.noteServed(relay, count),
      fence,
    });
    this.settle = new SettleScheduler({
      db,
      pipeline,
      log,
      book: this.book,
      scopes: this.o.relaySet.scopes,
      windows: this.o.settleWindows,
      now: this.now,
      signal: this.stopping.signal,
      connection: (relay) => this.connections.get(relay),
      pageLimit: (relay) => this.knowledge.pageLimit(relay),
      learned: (relay, patch) => this.knowledge.merge(relay, patch),
      fence,
    });
  }

  /** The last moves of scopes to fallback relays and back (for /health/ingest). */
  get switches(): SwitchRecord[] {
    return this.switchLog.records;
  }

  /** The last hole repairs (for /health/ingest). */
  get repairs(): RepairRecord[] {
    return this.repair.records;
  }

  async start(): Promise<void> {
    await this.book.reload(() => true);
    await this.knowledge.refresh((url) => this.ownership.owns(url));
    // Batched scopes read their keys once and subscribe every primary with them.
    await this.batched.load();
    await this.sweepOwnership();
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) => this.o.log.error({ err: error }, 'ingest tick failed'));
    }, this.o.tickMs);
    this.timer.unref();
    this.ownershipTimer = setInterval(() => void this.sweepOwnership(), this.o.ownershipIntervalMs);
    this.ownershipTimer.unref();
  }

  /**
   * Stops reading from relays, commits what is buffered (coverage included, while the locks are
   * still held), then releases the relays for other daemons.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.ownershipTimer) clearInterval(this.ownershipTimer);
    this.stopping.abort();
    await this.repair.stop();
    await this.settle.current;
    await this.sweeping;
    await Promise.all([...this.connections.values()].map((c) => c.stop()));
    await this.o.pipeline.flush();
    await Promise.all([...this.connections.keys()].map((url) => this.persistRelay(url)));
    await this.ownership.close();
    this.o.log.info({ relays: [...this.connections.keys()] }, 'relays released');
  }

  /** The connection this daemon holds to `url`, if any (backfill jobs share it). */
  connectionTo(url: string): RelayConnection | undefined {
    return this.connections.get(url);
  }

  /** Periodic work: advance live coverage, and move scopes to or from fallback relays. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const now = unixSeconds(this.now);
    this.subs.advance(now, (url) => this.connections.get(url));
    await this.manageFallbacks(now * 1000);
    await this.batched.refresh(now, async (name, scope, batches) => {
      const relays = this.subs.relays(name);
      for (const url of this.o.relaySet.primaries) if (this.ownership.owns(url)) relays.add(url);
      for (const url of relays) {
        this.unsubscribeScope(url, name, false);
        await this.subscribeScope(url, name, scope, undefined, batches);
      }
    });
    this.repair.run();
    this.settle.run();
  }

  private allRelays(): string[] {
    return [...this.o.relaySet.primaries, ...this.o.relaySet.fallbacks];
  }

  // ── ownership ───────────────────────────────────────────────────────────────────────────────

  /**
   * Takes the relays nobody holds, drops the ones whose lock is gone, and re-reads what other
   * daemons wrote about theirs. One sweep at a time; never throws.
   */
  private sweepOwnership(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.sweeping ??= (async () => {
      const change = await this.ownership.sweep(this.allRelays());
      for (const url of change.lost) void this.dropRelay(url, 'ownership lost');
      try {
        // Handing over flushes the pipeline, which throws once it has failed: caught here.
        for (const url of change.surplus) if (!this.stopped) await this.handOver(url);
        await this.book.reload((relay) => !this.ownership.owns(relay));
        await this.knowledge.refresh((url) => this.ownership.owns(url));
        for (const url of change.acquired) if (!this.stopped) await this.serveRelay(url);
      } catch (error) {
        this.o.log.error({ err: error }, 'ownership sweep failed; retried at the next one');
        // A relay taken but not served yet is served once the database answers again.
        for (const url of change.acquired) if (this.ownership.owns(url) && !this.connections.has(url)) this.retryServe.add(url);
      }
      for (const url of [...this.retryServe]) {
        this.retryServe.delete(url);
        if (this.ownership.owns(url) && !this.stopped) await this.serveRelay(url).catch(() => this.retryServe.add(url));
      }
    })().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  /** Starts serving a relay just acquired, from the coverage its previous owner committed. */
  private async serveRelay(url: string): Promise<void> {
    await this.book.reload((relay) => relay === url);
    if (this.o.relaySet.primaries.includes(url)) {
      for (const [name, scope] of Object.entries(this.o.relaySet.scopes)) {
        await this.subscribeScope(url, name, scope, undefined, this.batched.batchesOf(name));
      }
    } else {
      for (const [name, state] of this.fallback) {
        const scope = this.o.relaySet.scopes[name];
        if (state.active && scope) await this.subscribeScope(url, name, scope, this.scopeCoveredUntil(name) ?? undefined, this.batched.batchesOf(name));
      }
    }
  }

  /** Stops serving a relay (its lock is gone, or about to be released): no REQ, no connection. */
  private dropRelay(url: string, reason: string): Promise<void> {
    this.subs.forgetRelay(url);
    const connection = this.connections.get(url);
    this.connections.delete(url);
    if (!connection) return Promise.resolve();
    this.o.log.warn({ relay: url, reason }, 'stopped serving a relay');
    return connection.stop().catch(() => {});
  }

  /**
   * Gives a relay up for an even split: stop reading it, commit what it sent (coverage included,
   * the lock still held), then release the lock for another daemon to take at its next sweep.
   */
  private async handOver(url: string): Promise<void> {
    await this.dropRelay(url, 'handed over to another daemon (fair share)');
    await this.o.pipeline.flush();
    await this.ownership.release([url]);
  }

  // ── connections and subscriptions ───────────────────────────────────────────────────────────

  private ensureConnection(url: string): RelayConnection {
    const existing = this.connections.get(url);
    if (existing) return existing;
    const fresh = this.o.connect(url);
    this.connections.set(url, fresh);
    this.knowledge.applyCeiling(url, fresh);
    fresh.on('status', (state: RelayState) => {
      if (this.connections.get(url) !== fresh) return;
      if (state.status !== 'connected') this.subs.connectionDown(url);
      this.settle.observe(url, fresh, state.status);
      this.knowledge.learnFromConnection(url, fresh, state);
      this.persistRelay(url).catch(() => {});
    });
    fresh.start();
    if (this.o.fetchRelayInfo) this.knowledge.fetchInformation(url, fresh, () => this.connections.get(url) === fresh).catch(() => {});
    return fresh;
  }

  private async subscribeScope(url: string, name: string, scope: Scope, from?: number, keys?: string[][]): Promise<void> {
    const connection = this.ensureConnection(url);
    const batches: Array<string[] | null> = scope.batch ? (keys ?? (await this.batched.keys(scope))) : [null];
    this.subs.subscribe(connection, url, name, scope, batches, from);
  }

  private unsubscribeScope(url: string, scope: string, dropIdleConnection = true): void {
    const connection = this.connections.get(url);
    this.subs.unsubscribe(url, scope, connection);
    const remaining = this.subs.relays().has(url);
    if (dropIdleConnection && !remaining && connection && !this.o.relaySet.primaries.includes(url)) {
      this.connections.delete(url);
      connection.stop().catch(() => {});
    }
  }

  private async persistRelay(url: string): Promise<void> {
    const connection = this.connections.get(url);
    if (connection) await this.knowledge.persist(url, connection);
  }

  // ── serving and fallbacks ───────────────────────────────────────────────────────────────────

  private scopeLiveOn(url: string, scope: string): boolean {
    if (!this.ownership.owns(url)) return this.scopeLiveElsewhere(url, scope);
    const connection = this.connections.get(url);
    if (!connection || connection.state().status !== 'connected') return false;
    return this.subs.liveOn(url, scope, Boolean(this.o.relaySet.scopes[scope]?.batch));
  }

  /**
   * A relay another daemon owns serves a scope when its owner stored it connected and keeps its
   * coverage fresh. A batched scope has no coverage: its owner's word (connected) is all there is.
   */
  private scopeLiveElsewhere(url: string, scope: string): boolean {
    if (!this.ownership.ownedElsewhere(url) || this.knowledge.storedStatusOf(url) !== 'connected') return false;
    if (this.o.relaySet.scopes[scope]?.batch) return true;
    const covered = this.book.coveredUntil(url, scope);
    return covered !== null && unixSeconds(this.now) - covered <= this.staleAfterSeconds;
  }

  private scopeCoveredUntil(scope: string): number | null {
    return this.book.scopeCoveredUntil(scope, this.allRelays());
  }

  /**
   * Fallbacks are managed by the daemon that owns them (a fallback relay is a relay like any
   * other), judging primaries by their own connections or, when owned elsewhere, by the database.
   */
  private async manageFallbacks(nowMs: number): Promise<void> {
    const { primaries, scopes } = this.o.relaySet;
    const fallbacks = this.o.relaySet.fallbacks.filter((url) => this.ownership.owns(url));
    if (fallbacks.length === 0 && ![...this.fallback.values()].some((s) => s.active)) return;
    for (const [name, scope] of Object.entries(scopes)) {
      const primaryLive = primaries.some((url) => this.scopeLiveOn(url, name));
      const { state, action } = decideFallback(this.fallback.get(name) ?? initialFallbackState(), primaryLive, fallbacks.length > 0, nowMs, this.o);
      this.fallback.set(name, state);
      if (action === 'fallback') {
        // Take over from the newest point any relay has covered for this scope.
        const from = this.scopeCoveredUntil(name);
        this.recordSwitch(name, 'fallback', fallbacks, from);
        for (const url of fallbacks) await this.subscribeScope(url, name, scope, from ?? undefined);
      } else if (action === 'hand_back') {
        this.recordSwitch(name, 'hand_back', fallbacks, this.scopeCoveredUntil(name));
        for (const url of fallbacks) this.unsubscribeScope(url, name);
      }
    }
  }

  private recordSwitch(scope: string, action: SwitchRecord['action'], relays: string[], from: number | null): void {
    const record: SwitchRecord = { at: new Date(this.now()).toISOString(), scope, action, relays, from };
    this.switchLog.add(record);
    this.o.log.warn(record, action === 'fallback' ? 'scope moved to fallback relays' : 'scope handed back to primaries');
  }

  // ── health ──────────────────────────────────────────────────────────────────────────────────

  /** What /health/ingest and /ready report. */
  health(): {
    relays: RelayState[];
    scopes: ScopeHealth[];
    switches: SwitchRecord[];
    repairs: RepairRecord[];
    settle: SettleRecord[];
    ownership: OwnershipReport;
    learned: Record<string, LearnedCapabilities>;
  } {
    const now = unixSeconds(this.now);
    const relays = [...this.connections.values()].map((c) => c.state());
    const scopes = Object.keys(this.o.relaySet.scopes).map((name): ScopeHealth => {
      const covered = this.scopeCoveredUntil(name);
      return {
        scope: name,
        batched: Boolean(this.o.relaySet.scopes[name]?.batch),
        servedBy: [...this.connections.keys()].filter((url) => this.scopeLiveOn(url, name)),
        servedElsewhere: this.allRelays().filter((url) => this.scopeLiveElsewhere(url, name)),
        fallbackActive: this.fallback.get(name)?.active ?? false,
        coveredUntil: covered,
        lagSeconds: covered === null ? null : Math.max(0, now - covered),
        ...this.book.scopeReport(name),
      };
    });
    const learned = Object.fromEntries(this.allRelays().map((url) => [url, this.knowledge.learnedOf(url)]));
    return { relays, scopes, switches: this.switches, repairs: this.repairs, settle: this.settle.records, ownership: this.ownership.report(this.allRelays()), learned };
  }
}
