/**
 * Advisory locks. Keys are arbitrary and fixed. One writer lock (single bigint key): every batch
 * and every rebuild hold it. Relay ownership uses the two-int form in its own namespace (classid =
 * RELAY_LOCK_NAMESPACE, objid = a hash of the relay URL), which pg_locks lists with objsubid 2, so
 * it can never collide with the single-key locks (objsubid 1). Every daemon also holds one shared
 * presence lock (DAEMON_PRESENCE_NAMESPACE, 0), so any of them can count the daemons alive.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../db/client.js';

export const WRITER_LOCK_KEY = 7_236_002;
export const RELAY_LOCK_NAMESPACE = 7_236_003;
export const DAEMON_PRESENCE_NAMESPACE = 7_236_004;
/** Held (transaction-scoped, tried without waiting) by the process building a hot snapshot. */
export const HOT_REFRESH_LOCK_KEY = 7_236_005;

/**
 * The lock key of a relay URL: the first 31 bits of its SHA-256, stable across processes and
 * Postgres versions (unlike hashtext) and non-negative, so it reads back unchanged from pg_locks'
 * oid columns. Two URLs sharing a key would simply be owned together.
 */
export function relayLockKey(url: string): number {
  return createHash('sha256').update(url).digest().readUInt32BE(0) & 0x7fffffff;
}

/** Tries each key without waiting; returns the keys this session now holds (at most once each). */
export async function tryRelayLocks(session: Queryable, keys: number[]): Promise<number[]> {
  if (keys.length === 0) return [];
  const rows = await query<{ key: number; ok: boolean }>(
    session,
    sql`SELECT k AS key, pg_try_advisory_lock(${RELAY_LOCK_NAMESPACE}, k) AS ok
        FROM (SELECT DISTINCT value::int AS k FROM json_array_elements_text(${JSON.stringify(keys)}::json)) AS keys`,
  );
  return rows.filter((r) => r.ok).map((r) => r.key);
}

export async function releaseRelayLocks(session: Queryable, keys: number[]): Promise<void> {
  for (const key of keys) await session.execute(sql`SELECT pg_advisory_unlock(${RELAY_LOCK_NAMESPACE}, ${key})`);
}

/**
 * pg_locks lists the locks of every database on the server, while advisory locks belong to one
 * database: without this, caches on other databases of the same server would look like daemons
 * holding our relays.
 */
const THIS_DATABASE = sql`(SELECT oid FROM pg_database WHERE datname = current_database())`;

/** Marks this session as a live daemon (shared: never waits, every daemon holds it at once). */
export async function announceDaemon(session: Queryable): Promise<void> {
  await session.execute(sql`SELECT pg_advisory_lock_shared(${DAEMON_PRESENCE_NAMESPACE}, 0)`);
}

/**
 * Who holds relay locks right now, seen from `session`: its backend pid, its own keys, other
 * sessions' keys, and how many daemons are alive (sessions holding the presence lock).
 */
export async function relayLockHolders(session: Queryable): Promise<{ pid: number; mine: number[]; others: number[]; daemons: number }> {
  const [me] = await query<{ pid: number; daemons: number }>(
    session,
    sql`SELECT pg_backend_pid() AS pid, (SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory'
          AND database = ${THIS_DATABASE} AND classid = ${DAEMON_PRESENCE_NAMESPACE} AND objid = 0 AND objsubid = 2 AND granted) AS daemons`,
  );
  const pid = me?.pid ?? 0;
  const rows = await query<{ key: number; holder: number }>(
    session,
    sql`SELECT objid::bigint AS key, pid AS holder FROM pg_locks
        WHERE locktype = 'advisory' AND database = ${THIS_DATABASE} AND classid = ${RELAY_LOCK_NAMESPACE} AND objsubid = 2 AND granted`,
  );
  return {
    pid,
    mine: rows.filter((r) => r.holder === pid).map((r) => r.key),
    others: rows.filter((r) => r.holder !== pid).map((r) => r.key),
    daemons: me?.daemons ?? 1,
  };
}

/** Whether the session with backend `pid` holds the relay lock `key` (a fence inside a write). */
export async function holdsRelayLock(db: Queryable, key: number, pid: number): Promise<boolean> {
  const rows = await query<{ held: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = ${THIS_DATABASE} AND classid = ${RELAY_LOCK_NAMESPACE}
        AND objid = ${key} AND objsubid = 2 AND pid = ${pid} AND granted) AS held`,
  );
  return rows[0]?.held === true;
}
