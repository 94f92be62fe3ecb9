/**
 * The live ingest daemon: one connection per relay, one subscription per (relay, scope), events into
 * the shared pipeline, and coverage cursors that only ever claim what is committed.
 *
 * Cursor rules (DESIGN.md, "Since cursors that cannot lose events"):
 * - A REQ is sent with since = covered_until - overlap (or now - initial lookback when nothing is
 *   covered yet). At its EOSE, [since, now - margin] is recorded through a pipeline marker, so it
 *   commits in the same transaction as the last event the relay sent before EOSE.
 * - While the subscription stays live, a periodic marker extends coverage to now - margin.
 * - On reconnect the REQ is re-sent with a fresh since, so a disconnect leaves no hole; dedupe
 *   absorbs the overlap.
 * Fallback relays take a scope over from the newest covered point when all its primaries have been
 * unhealthy for `fallbackAfterMs`, and hand it back once a primary has been live for the overlap.
 *
 * Ownership (several daemons on one Postgres, see ownership.ts): the daemon connects to a relay
 * only while it holds that relay's lock, primaries and fallbacks alike. On taking a relay over it
 * re-reads the relay's coverage, which the previous owner kept up to what it committed, so the new
 * REQ starts at that cursor minus the overlap: no hole. Coverage writes are fenced by the lock
 * inside their transaction, so a daemon that lost a relay can no longer move its cursor. Relays
 * owned elsewhere are followed through the database: their coverage and status, re-read at each
 * ownership sweep, tell whether a scope is served (readiness, and whether fallbacks are needed).
 *
 * Learned relay behaviour (capabilities.ts) is loaded at start and applied before NIP-11 arrives:
 * the REQ ceiling of each new connection, and the page size of hole repairs (backfill reads it).
 */
import { sql } from 'drizzle-orm';
import type { Filter } from 'nostr-tools/filter';
import { query, type AppDatabase, type DedicatedSession } from '../db/client.js';
import type { Logger } from '../log.js';
import { clearWanted, loadCoverage, loadRelays, loadWanted, recordCoverage, recordWanted, mergeRelayLearned, saveRelayState } from '../store/ingest-state.js';
import { backfill, RelayIgnoresUntilError } from './backfill.js';
import { connectionLearning, parseLearned, RECHECK_LEARNED_AFTER_MS, reqCeilingFor, smallestKnownPageSize, type LearnedCapabilities } from './capabilities.js';
import { coveredUntil, holes, mergeRanges, provenByEose, uncovered, type EoseAnswer, type Range } from './coverage.js';
import { fetchRelayInformation, limitsOf, type RelayLimits } from './nip11.js';
import { RelayOwnership, type OwnershipReport } from './ownership.js';
import type { IngestPipeline } from './pipeline.js';
import type { RelayConnection, RelayState } from './relay-connection.js';
import type { RelaySet, Scope } from './relay-set.js';

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
  /** How often holes in coverage are looked for and repaired (one at a time); 0 disables. */
  repairIntervalMs?: number;
  /** Fetch NIP-11 documents (limits, REQ ceilings); default true. */
  fetchRelayInfo?: boolean;
  now?: () => number;
}

/** One (relay, scope[, batch]) subscription and its cursor. */
interface Subscription {
  relay: string;
  scope: string;
  id: string;
  filter: Filter;
  /** since of the REQ last sent. */
  reqSince: number | null;
  /** What that REQ's stored-events answer held so far (until its EOSE). */
  answer: EoseAnswer;
  /**
   * Where a live subscription's coverage starts when its EOSE proved nothing yet: a possibly capped
   * answer whose oldest event is newer than the clock margin. tick() covers from here once the
   * margin has passed it (without it the scope had no coverage until the REQ was re-sent).
   */
  provenFrom: number | null;
  live: boolean;
  liveSince: number | null;
  eoseAt: number | null;
  closedReason: string | null;
  /** Keyed by batched ids/authors rather than time: no coverage cursor. */
  oneShot: boolean;
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

export interface SwitchRecord {
  at: string;
  scope: string;
  action: 'fallback' | 'hand_back';
  relays: string[];
  from: number | null;
}

export class IngestDaemon {
  private readonly connections = new Map<string, RelayConnection>();
  private readonly subscriptions = new Map<string, Subscription>();
  /** Per relay, per scope: covered ranges as last committed. */
  private readonly coverage = new Map<string, Range[]>();
  private readonly unhealthySince = new Map<string, number>();
  private readonly fallbackScopes = new Set<string>();
  private readonly primaryLiveSince = new Map<string, number>();
  /** NIP-11 limits per relay, once fetched. */
  private readonly limits = new Map<string, RelayLimits>();
  private repairing: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private lastRepairAt = 0;
  /** Coverage markers not yet committed (or failed), per coverage key. */
  private readonly coverageMarks = new Map<string, number>();
  /** Holes reported as impossible to repair (the relay ignores `until`), and when that was learned. */
  private readonly unrepairable = new Map<string, number>();
  /**
   * Per coverage key, the earliest since a live REQ asked for whose answer did not prove it (a
   * possibly capped answer): the gap before the first covered range is repaired like a hole.
   * Kept in coverage_wanted too, so a restart before the repair does not forget the gap.
   */
  private readonly wantedSince = new Map<string, number>();
  readonly repairs: Array<{ at: string; relay: string; scope: string; hole: Range; events: number; error?: string }> = [];
  /** Batched scopes: keys in use and when they were last refreshed. */
  private readonly batchState = new Map<string, { batches: string[][]; keys: string; refreshedAt: number }>();
  private readonly ownership: RelayOwnership;
  private sweeping: Promise<void> | null = null;
  /** Relays acquired while the database could not be read: served at the next sweep. */
  private readonly retryServe = new Set<string>();
  private ownershipTimer: NodeJS.Timeout | null = null;
  /** Per relay: what is learned (relays.learned) and its status as its owner last stored it. */
  private readonly learned = new Map<string, LearnedCapabilities>();
  private readonly storedStatus = new Map<string, string>();
  /** Rate-limit replies of each connection already added to `learned`. */
  private readonly rateLimitsCounted = new WeakMap<RelayConnection, number>();
  readonly switches: SwitchRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly now: () => number;
  private readonly o: Required<Omit<IngestDaemonOptions, 'now'>>;
  /** How old a relay's coverage, owned elsewhere, may be while it still counts as serving. */
  private readonly staleAfterSeconds: number;

  constructor(options: IngestDaemonOptions) {
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.o = {
      overlapSeconds: 60,
      clockMarginSeconds: 30,
      initialLookbackSeconds: 3600,
      fallbackAfterMs: 60_000,
      handBackAfterMs: 120_000,
      tickMs: 5000,
      repairIntervalMs: 60_000,
      fetchRelayInfo: true,
      ownershipIntervalMs: 10_000,
      ...options,
    };
    // The owner advances coverage every tick and we re-read it every sweep: allow two of each.
    this.staleAfterSeconds = this.o.clockMarginSeconds + Math.ceil((2 * this.o.tickMs + 2 * this.o.ownershipIntervalMs) / 1000);
    this.ownership = new RelayOwnership({
      openSession: this.o.openLockSession,
      log: this.o.log,
      onLost: (relays) => {
        for (const url of relays) void this.dropRelay(url, 'lock session lost');
      },
    });
  }

  async start(): Promise<void> {
    await this.reloadCoverage(() => true);
    await this.refreshRelays();
    for (const [name, scope] of Object.entries(this.o.relaySet.scopes)) {
      // Batched scopes read their keys once and subscribe every primary with them.
      if (!scope.batch) continue;
      const batches = await this.batchKeys(scope);
      this.batchState.set(name, { batches, keys: JSON.stringify(batches), refreshedAt: this.now() });
    }
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
    await this.repairing?.catch(() => {});
    await this.sweeping;
    await Promise.all([...this.connections.values()].map((c) => c.stop()));
    await this.o.pipeline.flush();
    await Promise.all([...this.connections.keys()].map((url) => this.persistRelay(url)));
    await this.ownership.close();
    this.o.log.info({ relays: [...this.connections.keys()] }, 'relays released');
  }

  private allRelays(): string[] {
    return [...this.o.relaySet.primaries, ...this.o.relaySet.fallbacks];
  }

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
        await this.reloadCoverage((relay) => !this.ownership.owns(relay));
        await this.refreshRelays();
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
    await this.reloadCoverage((relay) => relay === url);
    if (this.o.relaySet.primaries.includes(url)) {
      for (const [name, scope] of Object.entries(this.o.relaySet.scopes)) {
        await this.subscribeScope(url, name, scope, undefined, this.batchState.get(name)?.batches);
      }
    } else {
      for (const name of this.fallbackScopes) {
        const scope = this.o.relaySet.scopes[name];
        if (scope) await this.subscribeScope(url, name, scope, this.scopeCoveredUntil(name) ?? undefined, this.batchState.get(name)?.batches);
      }
    }
  }

  /** Stops serving a relay (its lock is gone, or about to be released): no REQ, no connection. */
  private dropRelay(url: string, reason: string): Promise<void> {
    for (const [key, sub] of this.subscriptions) if (sub.relay === url) this.subscriptions.delete(key);
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

  /** Replaces the in-memory coverage and wanted starts of the relays selected with what the database holds. */
  private async reloadCoverage(select: (relay: string) => boolean): Promise<void> {
    const [rows, wanted] = await Promise.all([loadCoverage(this.o.db), loadWanted(this.o.db)]);
    for (const map of [this.coverage, this.wantedSince]) {
      for (const key of [...map.keys()]) if (select(splitCoverageKey(key)[0])) map.delete(key);
    }
    for (const row of rows) {
      if (!select(row.relay)) continue;
      const key = coverageKey(row.relay, row.scope);
      this.coverage.set(key, mergeRanges([...(this.coverage.get(key) ?? []), row]));
    }
    for (const row of wanted) {
      if (!select(row.relay)) continue;
      const key = coverageKey(row.relay, row.scope);
      this.wantedSince.set(key, Math.min(this.wantedSince.get(key) ?? row.since, row.since));
    }
  }

  /**
   * Re-reads relays' stored status and learned values. What a connection teaches (REQ ceiling,
   * auth, rate limits) is written only by the relay's owner, so for owned relays the in-memory
   * values stand; the rest (page size, `until`) may come from any backfill.
   */
  private async refreshRelays(): Promise<void> {
    for (const row of await loadRelays(this.o.db)) {
      this.storedStatus.set(row.url, row.status);
      const stored = parseLearned(row.learned);
      const local = this.learned.get(row.url);
      if (local && this.ownership.owns(row.url)) {
        for (const key of ['reqCeiling', 'authRequired', 'rateLimited'] as const) {
          if (local[key] !== undefined) (stored as Record<string, unknown>)[key] = local[key];
        }
      }
      this.learned.set(row.url, stored);
    }
  }

  /** The connection this daemon holds to `url`, if any (backfill jobs share it). */
  connectionTo(url: string): RelayConnection | undefined {
    return this.connections.get(url);
  }

  private ensureConnection(url: string): RelayConnection {
    let connection = this.connections.get(url);
    if (!connection) {
      const fresh = this.o.connect(url);
      connection = fresh;
      this.connections.set(url, fresh);
      // Before NIP-11 (or without it): the ceiling this relay showed before.
      const ceiling = reqCeilingFor(this.learned.get(url) ?? {});
      if (ceiling !== null) fresh.setMaxSubscriptions(ceiling);
      fresh.on('status', (state: RelayState) => {
        if (this.connections.get(url) !== fresh) return;
        if (state.status !== 'connected') {
          // Nothing is live on a connection that is down; its REQs are re-sent on reconnect.
          for (const sub of this.subscriptions.values()) if (sub.relay === url) sub.live = false;
        }
        this.learnFromConnection(url, fresh, state);
        this.persistRelay(url).catch(() => {});
      });
      connection.start();
      if (this.o.fetchRelayInfo) this.learnRelay(url, connection).catch(() => {});
    }
    return connection;
  }

  /** NIP-11: store the document, size REQs by its limits (and by what the relay showed). */
  private async learnRelay(url: string, connection: RelayConnection): Promise<void> {
    const info = await fetchRelayInformation(url);
    const limits = limitsOf(info);
    this.limits.set(url, limits);
    if (!info || this.connections.get(url) !== connection) return;
    const advertised = { maxLimit: limits.maxLimit, maxSubscriptions: limits.maxSubscriptions, supportsNip77: limits.supportsNip77 };
    const learned = { ...this.learned.get(url), ...advertised };
    this.learned.set(url, learned);
    const ceiling = reqCeilingFor(learned);
    if (ceiling !== null) connection.setMaxSubscriptions(ceiling);
    await saveRelayState(this.o.db, {
      url,
      status: connection.state().status,
      nip11: info,
      learned: advertised,
      authRequired: limits.authRequired || connection.state().authRequired || learned.authRequired === true,
    });
  }

  /** Remembers what the connection showed (REQ ceiling, auth, rate limits) in relays.learned. */
  private learnFromConnection(url: string, connection: RelayConnection, state: RelayState): void {
    const counted = this.rateLimitsCounted.get(connection) ?? 0;
    const learned = this.learned.get(url) ?? {};
    const patch = connectionLearning(learned, {
      reqCeiling: state.learnedMaxSubscriptions,
      authRequired: state.authRequired,
      rateLimitedSince: state.rateLimitedCount - counted,
      lastRateLimitedAt: state.lastRateLimitedAt,
    });
    if (!patch) return;
    this.rateLimitsCounted.set(connection, state.rateLimitedCount);
    this.learned.set(url, { ...learned, ...patch });
    this.o.log.info({ relay: url, learned: patch }, 'learned relay behaviour');
    mergeRelayLearned(this.o.db, url, patch).catch((error: unknown) => this.o.log.warn({ err: error, relay: url }, 'learned values not stored'));
  }

  private async subscribeScope(url: string, name: string, scope: Scope, from?: number, keys?: string[][]): Promise<void> {
    const connection = this.ensureConnection(url);
    const batches: Array<string[] | null> = scope.batch ? (keys ?? (await this.batchKeys(scope))) : [null];
    batches.forEach((keys, i) => {
      const filter: Filter = { ...(scope.filter as Filter) };
      if (scope.batch && keys) (filter as Record<string, unknown>)[scope.batch.field] = keys;
      const id = scope.batch ? `${name}:${i}` : name;
      const sub: Subscription = {
        relay: url,
        scope: name,
        id,
        filter,
        reqSince: null,
        answer: { count: 0, oldest: null },
        provenFrom: null,
        live: false,
        liveSince: null,
        eoseAt: null,
        closedReason: null,
        oneShot: false,
      };
      this.subscriptions.set(subKey(url, id), sub);
      sub.oneShot = Boolean(scope.batch);
      connection.subscribe(id, {
        // Batched scopes have no time cursor (their key set changes): each REQ asks the keys'
        // history, bounded by the relay's page size, and stays open for live events.
        filters: () => (scope.batch ? [filter] : [{ ...filter, since: this.sinceFor(sub, from) }]),
        onEvent: (event, bytes) => {
          if (!sub.live) noteAnswer(sub.answer, (event as { created_at?: unknown } | null)?.created_at, sub.reqSince ?? 0);
          return this.o.pipeline.submit({ value: event, bytes, relay: url });
        },
        onKnownEvent: (eventId, createdAt, frame) => {
          if (!this.o.pipeline.takeCopy(eventId, url, frame)) return false;
          if (!sub.live) noteAnswer(sub.answer, createdAt, sub.reqSince ?? 0);
          return true;
        },
        onEose: () => this.onEose(sub),
        onClosed: (reason) => {
          sub.live = false;
          sub.closedReason = reason;
          this.o.log.warn({ relay: url, scope: name, reason }, 'subscription closed by relay');
        },
      });
    });
  }

  /** since for a (re)sent REQ: the cursor minus the overlap. Remembered for the EOSE range. */
  private sinceFor(sub: Subscription, from?: number): number {
    const covered = coveredUntil(this.coverage.get(coverageKey(sub.relay, sub.scope)) ?? []);
    const start = covered ?? from ?? this.now() - this.o.initialLookbackSeconds;
    const since = Math.max(0, start - this.o.overlapSeconds);
    sub.reqSince = since;
    sub.answer = { count: 0, oldest: null };
    sub.provenFrom = null;
    sub.live = false;
    return since;
  }

  private onEose(sub: Subscription): void {
    const until = this.now() - this.o.clockMarginSeconds;
    sub.eoseAt = this.now();
    sub.live = true;
    sub.liveSince ??= this.now();
    sub.closedReason = null;
    const since = sub.reqSince;
    if (since === null || sub.oneShot) return;
    const proven = provenByEose({ since, until }, sub.answer, this.pageCapOf(sub.relay));
    if (proven === null || proven.since !== since) {
      // The rest of [since, until] is left to repairHoles, which pages it backwards.
      const key = coverageKey(sub.relay, sub.scope);
      this.wantedSince.set(key, Math.min(this.wantedSince.get(key) ?? since, since));
      recordWanted(this.o.db, sub.relay, sub.scope, since).catch((error: unknown) =>
        this.o.log.warn({ err: error, relay: sub.relay, scope: sub.scope }, 'could not store the wanted start; kept in memory'),
      );
      this.o.log.info(
        { relay: sub.relay, scope: sub.scope, events: sub.answer.count, since, provenSince: proven?.since ?? null },
        'live answer may have been capped by the relay: older part left to hole repair',
      );
    }
    if (proven) this.commitCoverage(sub, proven);
    else if (sub.answer.oldest !== null) sub.provenFrom = Math.max(since, sub.answer.oldest + 1);
  }

  /**
   * The relay's page size as far as known (NIP-11, stored or learned, a learned one however old: a
   * smaller cap only makes the capped-answer check more cautious), or null.
   */
  private pageCapOf(url: string): number | null {
    const cap = smallestKnownPageSize(this.limits.get(url)?.maxLimit ?? Infinity, this.learned.get(url) ?? {});
    return Number.isFinite(cap) ? cap : null;
  }

  /**
   * Records a covered range once every event submitted before now, and every copy of the relay's
   * still undecided, is committed, if this daemon still owns the relay at that commit.
   */
  private commitCoverage(sub: Subscription, range: Range): void {
    const key = coverageKey(sub.relay, sub.scope);
    this.coverageMarks.set(key, (this.coverageMarks.get(key) ?? 0) + 1);
    const settled = () => {
      const left = (this.coverageMarks.get(key) ?? 1) - 1;
      if (left > 0) this.coverageMarks.set(key, left);
      else this.coverageMarks.delete(key);
    };
    this.o.pipeline
      .mark(async (tx) => {
        if (!(await this.ownership.fence(tx, sub.relay))) {
          this.o.log.warn({ relay: sub.relay, scope: sub.scope, ...range }, 'coverage not recorded: relay no longer owned');
          return;
        }
        const merged = await recordCoverage(tx, sub.relay, sub.scope, range);
        this.coverage.set(key, merged);
      }, sub.relay)
      .catch((error: unknown) => this.o.log.error({ err: error, relay: sub.relay, scope: sub.scope }, 'coverage not recorded'))
      .finally(settled);
  }

  /** Periodic work: advance live coverage, and move scopes to or from fallback relays. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const now = this.now();
    for (const sub of this.subscriptions.values()) {
      const connection = this.connections.get(sub.relay);
      // A paused socket may hold unread events older than the margin: do not claim past them.
      if (!sub.live || sub.oneShot || !connection || connection.state().status !== 'connected' || connection.state().paused) continue;
      // One advance at a time: while one waits (a slow database, copies still undecided), the next
      // tick would claim no more than it once it commits.
      if (this.coverageMarks.has(coverageKey(sub.relay, sub.scope))) continue;
      const covered = coveredUntil(this.coverage.get(coverageKey(sub.relay, sub.scope)) ?? []) ?? sub.provenFrom;
      const until = now - this.o.clockMarginSeconds;
      if (covered !== null && until > covered) this.commitCoverage(sub, { since: covered, until });
    }
    await this.manageFallbacks(now * 1000);
    await this.refreshBatches(now);
    this.repairHoles();
  }

  /**
   * Looks for holes between covered ranges of a (relay, scope) and backfills the newest one, one
   * repair at a time, over the daemon's own connection and pipeline.
   */
  private repairHoles(): void {
    if (this.repairing || this.o.repairIntervalMs <= 0 || Date.now() - this.lastRepairAt < this.o.repairIntervalMs) return;
    this.lastRepairAt = Date.now();
    for (const [key, ranges] of this.coverage) {
      const wanted = this.wantedSince.get(key);
      const gap = this.gapsOf(key, ranges).at(-1);
      if (!gap) {
        if (wanted !== undefined) {
          this.wantedSince.delete(key);
          const [relay, scope] = splitCoverageKey(key);
          clearWanted(this.o.db, relay, scope, wanted).catch((error: unknown) =>
            this.o.log.warn({ err: error, relay, scope }, 'could not clear the met wanted start'),
          );
        }
        continue;
      }
      const [relay, scopeName] = splitCoverageKey(key);
      const scope = this.o.relaySet.scopes[scopeName];
      const connection = this.connections.get(relay);
      if (!scope || scope.batch || !connection || connection.state().status !== 'connected') continue;
      const holeId = `${key}${SEP}${gap.since}`;
      // Left until the relay's refusal is due for a re-check (backfill then pages it once more).
      if (Date.now() - (this.unrepairable.get(holeId) ?? -Infinity) < RECHECK_LEARNED_AFTER_MS) continue;
      const record = { at: new Date().toISOString(), relay, scope: scopeName, hole: gap, events: 0 } as (typeof this.repairs)[number];
      this.o.log.info({ relay, scope: scopeName, hole: gap }, 'repairing a coverage hole');
      this.repairing = backfill(
        { connection, relay, scope: scopeName, filter: scope.filter as Filter },
        {
          db: this.o.db,
          pipeline: this.o.pipeline,
          log: this.o.log,
          since: gap.since,
          until: gap.until,
          pageLimit: this.limits.get(relay)?.maxLimit ?? 500,
          signal: this.stopping.signal,
          fence: (tx) => this.ownership.fence(tx, relay),
        },
      )
        .then((result) => {
          record.events = result.events;
          this.learned.set(relay, { ...this.learned.get(relay), ...result.learned });
        })
        .catch((error: unknown) => {
          record.error = (error as Error).message;
          // A relay that ignores `until` (and offers no NIP-77) cannot fill it: reported once, left.
          if (error instanceof RelayIgnoresUntilError) {
            this.unrepairable.set(holeId, Date.parse(error.checkedAt ?? '') || Date.now());
            this.learned.set(relay, { ...this.learned.get(relay), respectsUntil: false });
            this.o.log.warn({ relay, scope: scopeName, hole: gap }, 'coverage hole left: the relay ignores "until"');
          } else this.o.log.warn({ err: error, relay, scope: scopeName }, 'hole repair failed; will retry');
        })
        .finally(() => {
          this.pushRepair(record);
          this.repairing = null;
        });
      return;
    }
  }

  /** Holes between covered ranges, and the unproven start of a capped live answer (wantedSince). */
  private gapsOf(key: string, ranges: Range[]): Range[] {
    const wanted = this.wantedSince.get(key);
    const newest = coveredUntil(ranges);
    return wanted !== undefined && newest !== null ? uncovered(ranges, { since: wanted, until: newest }) : holes(ranges);
  }

  private pushRepair(record: IngestDaemon['repairs'][number]): void {
    this.repairs.push(record);
    if (this.repairs.length > 100) this.repairs.shift();
  }

  /** Re-reads the keys of batched scopes when due, and resubscribes where they changed. */
  private async refreshBatches(now: number): Promise<void> {
    for (const [name, scope] of Object.entries(this.o.relaySet.scopes)) {
      if (!scope.batch) continue;
      const state = this.batchState.get(name);
      if (state && now - state.refreshedAt < scope.batch.refreshSeconds) continue;
      const batches = await this.batchKeys(scope);
      const keys = JSON.stringify(batches);
      this.batchState.set(name, { batches, keys, refreshedAt: now });
      if (!state || state.keys === keys) continue;
      const relays = new Set([...this.subscriptions.values()].filter((s) => s.scope === name).map((s) => s.relay));
      for (const url of this.o.relaySet.primaries) if (this.ownership.owns(url)) relays.add(url);
      for (const url of relays) {
        this.unsubscribeScope(url, name, false);
        await this.subscribeScope(url, name, scope, undefined, batches);
      }
    }
  }

  private scopeLiveOn(url: string, scope: string): boolean {
    if (!this.ownership.owns(url)) return this.scopeLiveElsewhere(url, scope);
    const connection = this.connections.get(url);
    if (!connection || connection.state().status !== 'connected') return false;
    const subs = [...this.subscriptions.values()].filter((s) => s.relay === url && s.scope === scope);
    // A batched scope with no keys yet has nothing to serve: it counts as served.
    if (subs.length === 0) return Boolean(this.o.relaySet.scopes[scope]?.batch);
    return subs.every((s) => s.live);
  }

  /**
   * A relay another daemon owns serves a scope when its owner stored it connected and keeps its
   * coverage fresh. A batched scope has no coverage: its owner's word (connected) is all there is.
   */
  private scopeLiveElsewhere(url: string, scope: string): boolean {
    if (!this.ownership.ownedElsewhere(url) || this.storedStatus.get(url) !== 'connected') return false;
    if (this.o.relaySet.scopes[scope]?.batch) return true;
    const covered = coveredUntil(this.coverage.get(coverageKey(url, scope)) ?? []);
    return covered !== null && this.now() - covered <= this.staleAfterSeconds;
  }

  /**
   * Fallbacks are managed by the daemon that owns them (a fallback relay is a relay like any
   * other), judging primaries by their own connections or, when owned elsewhere, by the database.
   */
  private async manageFallbacks(nowMs: number): Promise<void> {
    const { primaries, scopes } = this.o.relaySet;
    const fallbacks = this.o.relaySet.fallbacks.filter((url) => this.ownership.owns(url));
    if (fallbacks.length === 0 && this.fallbackScopes.size === 0) return;
    for (const [name, scope] of Object.entries(scopes)) {
      const primaryLive = primaries.some((url) => this.scopeLiveOn(url, name));
      if (!primaryLive) {
        this.primaryLiveSince.delete(name);
        const since = this.unhealthySince.get(name) ?? nowMs;
        this.unhealthySince.set(name, since);
        if (!this.fallbackScopes.has(name) && fallbacks.length > 0 && nowMs - since >= this.o.fallbackAfterMs) {
          // Take over from the newest point any relay has covered for this scope.
          const from = this.scopeCoveredUntil(name);
          this.fallbackScopes.add(name);
          this.recordSwitch(name, 'fallback', fallbacks, from);
          for (const url of fallbacks) await this.subscribeScope(url, name, scope, from ?? undefined);
        }
        continue;
      }
      this.unhealthySince.delete(name);
      if (!this.fallbackScopes.has(name)) continue;
      const liveSince = this.primaryLiveSince.get(name) ?? nowMs;
      this.primaryLiveSince.set(name, liveSince);
      if (nowMs - liveSince >= this.o.handBackAfterMs) {
        this.fallbackScopes.delete(name);
        this.recordSwitch(name, 'hand_back', fallbacks, this.scopeCoveredUntil(name));
        for (const url of fallbacks) this.unsubscribeScope(url, name);
      }
    }
  }

  private unsubscribeScope(url: string, scope: string, dropIdleConnection = true): void {
    const connection = this.connections.get(url);
    for (const [key, sub] of this.subscriptions) {
      if (sub.relay !== url || sub.scope !== scope) continue;
      connection?.unsubscribe(sub.id);
      this.subscriptions.delete(key);
    }
    const remaining = [...this.subscriptions.values()].some((s) => s.relay === url);
    if (dropIdleConnection && !remaining && connection && !this.o.relaySet.primaries.includes(url)) {
      this.connections.delete(url);
      connection.stop().catch(() => {});
    }
  }

  private recordSwitch(scope: string, action: SwitchRecord['action'], relays: string[], from: number | null): void {
    const record: SwitchRecord = { at: new Date().toISOString(), scope, action, relays, from };
    this.switches.push(record);
    if (this.switches.length > 100) this.switches.shift();
    this.o.log.warn(record, action === 'fallback' ? 'scope moved to fallback relays' : 'scope handed back to primaries');
  }

  private scopeCoveredUntil(scope: string): number | null {
    let best: number | null = null;
    for (const url of this.allRelays()) {
      const c = coveredUntil(this.coverage.get(coverageKey(url, scope)) ?? []);
      if (c !== null && (best === null || c > best)) best = c;
    }
    return best;
  }

  /** Keys for a batched scope (recent post ids or recent authors), split into REQ-sized batches. */
  private async batchKeys(scope: Scope): Promise<string[][]> {
    const batch = scope.batch!;
    const after = this.now() - Math.round(batch.windowDays * 86_400);
    const limit = batch.size * 10;
    const rows =
      batch.source === 'recent_posts'
        ? await query<{ key: string }>(
            this.o.db,
            sql`SELECT event_id AS key FROM nostr_events WHERE is_top_level AND deleted_at IS NULL AND created_at >= ${after}
                ORDER BY created_at DESC LIMIT ${limit}`,
          )
        : await query<{ key: string }>(
            this.o.db,
            sql`SELECT pubkey AS key FROM nostr_events WHERE created_at >= ${after}
                GROUP BY pubkey ORDER BY max(created_at) DESC LIMIT ${limit}`,
          );
    const keys = rows.map((r) => r.key);
    const out: string[][] = [];
    for (let i = 0; i < keys.length; i += batch.size) out.push(keys.slice(i, i + batch.size));
    return out;
  }

  private async persistRelay(url: string): Promise<void> {
    const connection = this.connections.get(url);
    if (!connection) return;
    const s = connection.state();
    await saveRelayState(this.o.db, {
      url,
      status: s.status,
      failures: s.consecutiveFailures,
      nextAttemptAt: s.nextAttemptAt === null ? null : new Date(s.nextAttemptAt),
      lastConnectedAt: s.connectedAt === null ? null : new Date(s.connectedAt),
      lastEventAt: s.lastEventAt === null ? null : new Date(s.lastEventAt),
      lastError: s.lastError,
      // A fresh connection has not met the relay's auth demand yet: keep what was learned.
      authRequired: s.authRequired || this.learned.get(url)?.authRequired === true,
    });
  }

  /** What /health/ingest and /ready report. */
  health(): {
    relays: RelayState[];
    scopes: ScopeHealth[];
    switches: SwitchRecord[];
    repairs: IngestDaemon['repairs'];
    ownership: OwnershipReport;
    learned: Record<string, LearnedCapabilities>;
  } {
    const now = this.now();
    const relays = [...this.connections.values()].map((c) => c.state());
    const scopes = Object.keys(this.o.relaySet.scopes).map((name): ScopeHealth => {
      const ranges: Record<string, Range[]> = {};
      const gaps: Record<string, Range[]> = {};
      for (const [key, value] of this.coverage) {
        const [relay, scope] = splitCoverageKey(key);
        if (scope !== name) continue;
        ranges[relay] = value;
        gaps[relay] = this.gapsOf(key, value);
      }
      const covered = this.scopeCoveredUntil(name);
      return {
        scope: name,
        batched: Boolean(this.o.relaySet.scopes[name]?.batch),
        servedBy: [...this.connections.keys()].filter((url) => this.scopeLiveOn(url, name)),
        servedElsewhere: this.allRelays().filter((url) => this.scopeLiveElsewhere(url, name)),
        fallbackActive: this.fallbackScopes.has(name),
        coveredUntil: covered,
        lagSeconds: covered === null ? null : Math.max(0, now - covered),
        ranges,
        holes: gaps,
      };
    });
    const learned = Object.fromEntries(this.allRelays().map((url) => [url, this.learned.get(url) ?? {}]));
    return { relays, scopes, switches: this.switches, repairs: this.repairs, ownership: this.ownership.report(this.allRelays()), learned };
  }
}

const SEP = '\u0000';
const coverageKey = (relay: string, scope: string) => `${relay}${SEP}${scope}`;
const splitCoverageKey = (key: string) => key.split(SEP) as [string, string];
const subKey = (relay: string, id: string) => `${relay}${SEP}${id}`;

/**
 * Counts an event of a REQ's stored-events answer and keeps the oldest created_at seen. One older
 * than the REQ's since (which a relay should not send) must not make a capped page look complete.
 */
function noteAnswer(answer: EoseAnswer, createdAt: unknown, since: number): void {
  answer.count++;
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < since) return;
  if (answer.oldest === null || createdAt < answer.oldest) answer.oldest = createdAt;
}
