/**
 * Per-relay ownership among daemons sharing one database (DESIGN.md, "Scale-out"): a daemon reads
 * a relay only while it holds that relay's session-level advisory lock, on one dedicated session
 * kept for its lifetime. Locks are tried (never waited for) on every sweep, so the relays of a
 * daemon that dies (its session ends, its locks with it) are taken over at the next sweep of
 * another. A lost session means every lock is lost: the daemon stops serving until it re-acquires.
 *
 * Work is spread: each daemon announces itself with a shared presence lock, and takes relays only
 * up to its fair share (relays / daemons alive, rounded up). When a daemon joins, the others find
 * themselves above their share and hand the surplus over (the daemon drains a relay before its
 * lock is released), so the newcomer takes it at its next sweep.
 *
 * A hung owner (stopped, partitioned) keeps its session and so its locks, so each daemon also
 * renews a lease from its lock session every interval (store/leases.ts); each sweep ends the lock
 * sessions of owners whose lease expired (from the database side), so their relays are free at
 * once, and the coverage fence also checks the lease. When the relays are rebalanced, the relays
 * acquired last are handed over first: a survivor gives back the relay it took over, not the one it
 * served without a break.
 *
 * On PGlite there is one process and one session: every lock is granted, nothing is ever lost,
 * through the same code path (and no lease: nobody could take over).
 */
import { hostname } from 'node:os';
import type { DedicatedSession, Queryable } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { dropLease, endStaleOwners, leaseIsLive, liveBackends, renewLease } from '../../store/leases.js';
import { announceDaemon, holdsRelayLock, relayLockHolders, relayLockKey, releaseRelayLocks, tryRelayLocks } from '../../store/locks.js';

/** How long a sweep waits for the sessions it ended to be gone (their locks with them). */
const ENDED_WAIT_MS = 2000;

/** fence()'s per-transaction cache key of the lease check (lock keys are non-negative). */
const LEASE_CHECK = -1;

export interface OwnershipChange {
  acquired: string[];
  lost: string[];
  /** Relays owned above the fair share: the daemon drains them, then calls release(). */
  surplus: string[];
}

/** The most relays (lock keys) one daemon should own for an even split. */
export function fairShare(keys: number, daemons: number): number {
  return Math.ceil(keys / Math.max(1, daemons));
}

export interface OwnershipReport {
  /** Relays this daemon holds the lock of (and so serves). */
  owned: string[];
  /** Relays whose lock another session holds. */
  ownedElsewhere: string[];
  /** Relays nobody held at the last sweep (this daemon could not take them either). */
  unowned: string[];
  /** Backend pid of this daemon's lock session, null while it has none. */
  sessionPid: number | null;
  /** Daemons alive on this database (at the last sweep), and the share each should own. */
  daemons: number;
  fairShare: number;
  lastSweepAt: string | null;
  lastError: string | null;
  /** Times the lock session was lost (every lock with it). */
  sessionsLost: number;
  /** When this daemon's lease expires (database clock), null without one. */
  leaseExpiresAt: string | null;
  /** Hung owners whose lock sessions this daemon ended (their lease expired). */
  staleOwnersEnded: number;
}

export interface RelayOwnershipOptions {
  openSession: () => DedicatedSession;
  log: Logger;
  /** Called once when the lock session is found gone, with the relays that were owned. */
  onLost: (relays: string[]) => void;
  /** The lease renewed from the lock session; seconds 0 (or absent): none (PGlite). */
  lease?: { seconds: number; renewEveryMs: number };
}

export class RelayOwnership {
  private session: DedicatedSession | null = null;
  private pid: number | null = null;
  /** Keys this session holds, with the relays they cover. */
  private readonly held = new Map<number, string[]>();
  private elsewhere: string[] = [];
  private unowned: string[] = [];
  private daemons = 1;
  private share = 0;
  private lastSweepAt: string | null = null;
  private lastError: string | null = null;
  private sessionsLost = 0;
  private closed = false;
  /** Order in which keys were acquired (a sweep's number): the newest are handed over first. */
  private readonly acquiredIn = new Map<number, number>();
  private sweeps = 0;
  private leaseTimer: NodeJS.Timeout | null = null;
  private leaseExpiresAt: Date | null = null;
  private staleOwnersEnded = 0;
  private readonly daemonId = `${hostname()}:${process.pid}`;
  /** fence() answers per transaction (a transaction object lives as long as its transaction). */
  private readonly fences = new WeakMap<Queryable, Map<number, Promise<boolean>>>();

  constructor(private readonly o: RelayOwnershipOptions) {}

  private get leaseSeconds(): number {
    return this.o.lease?.seconds ?? 0;
  }

  owns(url: string): boolean {
    return this.held.get(relayLockKey(url))?.includes(url) ?? false;
  }

  ownedElsewhere(url: string): boolean {
    return this.elsewhere.includes(url);
  }

  /**
   * Checks what this session still holds, tries every wanted relay it does not, and notes which
   * are held by other sessions. Never throws: a failing session counts as lost.
   */
  async sweep(wanted: string[]): Promise<OwnershipChange> {
    const change: OwnershipChange = { acquired: [], lost: [], surplus: [] };
    if (this.closed) return change;
    const sweep = ++this.sweeps;
    try {
      if (!this.session) {
        this.session = this.open();
        await announceDaemon(this.session.db);
      }
      const session = this.session;
      if (this.leaseSeconds > 0) {
        await this.renew(session);
        await this.endStale(session);
      }
      const holders = await relayLockHolders(session.db);
      if (this.pid !== null && holders.pid !== this.pid) throw new Error('lock session replaced');
      this.pid = holders.pid;
      const mine = new Set(holders.mine);
      for (const [key, urls] of this.held) {
        if (mine.has(key)) continue;
        this.held.delete(key);
        change.lost.push(...urls);
      }
      const byKey = new Map<number, string[]>();
      for (const url of new Set(wanted)) {
        const key = relayLockKey(url);
        byKey.set(key, [...(byKey.get(key) ?? []), url]);
      }
      const others = new Set(holders.others);
      this.daemons = Math.max(1, holders.daemons);
      this.share = fairShare(byKey.size, this.daemons);
      const room = this.share - this.held.size;
      const candidates = [...byKey.keys()].filter((k) => !this.held.has(k) && !others.has(k)).slice(0, Math.max(0, room));
      for (const key of await tryRelayLocks(session.db, candidates)) {
        this.held.set(key, byKey.get(key)!);
        this.acquiredIn.set(key, sweep);
        change.acquired.push(...byKey.get(key)!);
      }
      // Above the share (a daemon joined or came back): the relays acquired last go, so a relay
      // taken over is the one given back; among those acquired together, the last in the wanted
      // order (fallbacks first).
      if (room < 0) {
        const mine = [...byKey].filter(([k]) => this.held.has(k));
        const oldestFirst = mine.sort(([a], [b]) => (this.acquiredIn.get(a) ?? 0) - (this.acquiredIn.get(b) ?? 0));
        change.surplus = oldestFirst.slice(room).flatMap(([, urls]) => urls);
      }
      this.elsewhere = [...byKey].filter(([k]) => others.has(k)).flatMap(([, urls]) => urls);
      this.unowned = [...byKey].filter(([k]) => !others.has(k) && !this.held.has(k)).flatMap(([, urls]) => urls);
      this.lastError = null;
    } catch (error) {
      this.lastError = (error as Error).message;
      this.o.log.error({ err: error }, 'relay ownership: lock session failed; every relay released');
      change.lost.push(...this.dropSession());
    } finally {
      this.lastSweepAt = new Date().toISOString();
    }
    if (change.acquired.length > 0) this.o.log.info({ relays: change.acquired, pid: this.pid }, 'relay ownership acquired');
    if (change.lost.length > 0) this.o.log.warn({ relays: change.lost }, 'relay ownership lost');
    return change;
  }

  /**
   * True when this daemon's session holds the relay's lock, checked inside `tx` (only `tx`: the
   * answer is kept for the rest of that transaction): the fence that keeps a daemon that lost a
   * relay from writing its coverage.
   */
  async fence(tx: Queryable, url: string): Promise<boolean> {
    if (!this.owns(url) || this.pid === null) return false;
    // Once per relay and transaction: a batch often carries the cursors of all a relay's scopes.
    let checks = this.fences.get(tx);
    if (!checks) this.fences.set(tx, (checks = new Map()));
    const key = relayLockKey(url);
    let held = checks.get(key);
    if (!held) checks.set(key, (held = holdsRelayLock(tx, key, this.pid)));
    if (!(await held)) return false;
    if (this.leaseSeconds === 0) return true;
    // A lapsed lease: another daemon may be ending this session right now (once per transaction).
    let live = checks.get(LEASE_CHECK);
    if (!live) checks.set(LEASE_CHECK, (live = leaseIsLive(tx, this.pid)));
    return live;
  }

  /** Releases the locks of relays this daemon has drained (handed over for an even split). */
  async release(urls: string[]): Promise<void> {
    const keys = [...new Set(urls.map(relayLockKey))].filter((k) => this.held.has(k));
    if (!this.session || keys.length === 0) return;
    for (const key of keys) this.held.delete(key);
    try {
      await releaseRelayLocks(this.session.db, keys);
    } catch (error) {
      // The session is in doubt: end it (every lock goes with it) rather than guess what it holds.
      this.o.log.error({ err: error }, 'relay ownership: unlock failed; lock session dropped');
      this.o.onLost(this.dropSession());
      return;
    }
    this.o.log.info({ relays: urls, daemons: this.daemons, fairShare: this.share }, 'relay ownership handed over');
  }

  /** Releases every lock and closes the session (graceful shutdown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    const session = this.session;
    if (!session) return;
    try {
      if (this.leaseSeconds > 0) await dropLease(session.db);
      await releaseRelayLocks(session.db, [...this.held.keys()]);
    } catch (error) {
      // Closing the session releases them anyway.
      this.o.log.warn({ err: error }, 'relay ownership: unlock failed; closing the session releases the locks');
    }
    this.held.clear();
    this.session = null;
    await session.close().catch(() => {});
  }

  report(wanted: string[]): OwnershipReport {
    const relays = [...new Set(wanted)];
    return {
      owned: relays.filter((u) => this.owns(u)),
      ownedElsewhere: relays.filter((u) => this.elsewhere.includes(u)),
      unowned: relays.filter((u) => this.unowned.includes(u)),
      sessionPid: this.pid,
      daemons: this.daemons,
      fairShare: this.share,
      lastSweepAt: this.lastSweepAt,
      lastError: this.lastError,
      sessionsLost: this.sessionsLost,
      leaseExpiresAt: this.leaseExpiresAt?.toISOString() ?? null,
      staleOwnersEnded: this.staleOwnersEnded,
    };
  }

  /** Renews the lease from `session` (each sweep, and on a timer of its own: a long sweep must not let it lapse). */
  private async renew(session: DedicatedSession): Promise<void> {
    this.leaseExpiresAt = await renewLease(session.db, this.daemonId, this.leaseSeconds);
    if (this.leaseTimer || this.closed) return;
    this.leaseTimer = setInterval(() => {
      const current = this.session;
      if (!current || this.closed) return;
      renewLease(current.db, this.daemonId, this.leaseSeconds).then(
        (at) => (this.leaseExpiresAt = at),
        (error: unknown) => this.o.log.warn({ err: error }, 'relay ownership: lease renewal failed; the next sweep checks the session'),
      );
    }, this.o.lease!.renewEveryMs);
    this.leaseTimer.unref();
  }

  /** Ends the lock sessions of owners whose lease expired, and waits (briefly) for their locks to go. */
  private async endStale(session: DedicatedSession): Promise<void> {
    let ended: Awaited<ReturnType<typeof endStaleOwners>>;
    try {
      ended = await endStaleOwners(session.db);
    } catch (error) {
      // E.g. a role without pg_signal_backend: our own session is fine; the hung owner keeps its relays.
      this.o.log.warn({ err: error }, 'relay ownership: could not end the lock sessions of owners whose lease expired');
      return;
    }
    if (ended.length === 0) return;
    this.staleOwnersEnded += ended.length;
    this.o.log.warn({ owners: ended }, 'relay ownership: ended the lock sessions of owners whose lease expired; their relays are free');
    const pids = ended.map((e) => e.pid);
    for (const start = Date.now(); Date.now() - start < ENDED_WAIT_MS; ) {
      if ((await liveBackends(session.db, pids)).length === 0) return;
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  private open(): DedicatedSession {
    const session = this.o.openSession();
    void session.lost.then(() => {
      if (this.session !== session || this.closed) return;
      this.lastError = 'lock session connection closed';
      const relays = this.dropSession();
      this.o.log.warn({ relays }, 'relay ownership: lock session lost; stopped serving its relays until re-acquired');
      this.o.onLost(relays);
    });
    return session;
  }

  /** Forgets the session (abandoned, not ended: its connection is dead) and every lock. */
  private dropSession(): string[] {
    this.leaseExpiresAt = null;
    const relays = [...this.held.values()].flat();
    if (this.session) this.sessionsLost++;
    const session = this.session;
    this.session = null;
    this.pid = null;
    this.held.clear();
    this.elsewhere = [];
    // A session that failed a query may still be connected (holding its locks): end it so no
    // lock outlives our belief that we lost it.
    void session?.close().catch(() => {});
    return relays;
  }
}
