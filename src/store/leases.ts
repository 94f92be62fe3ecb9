/**
 * Leases that make a hung relay owner visible. Advisory locks live as long as their Postgres session,
 * and a daemon stopped with SIGSTOP (or partitioned) keeps its session open until TCP keepalive
 * gives up, hours later. So each daemon also renews a lease row from its lock session every
 * ownership interval (`renewLease`); a daemon that finds another's lease expired ends that session
 * from the database side (`endStaleOwners`, pg_terminate_backend), which releases every lock it held,
 * and takes the relays over in its next round. All times are the database's clock, so hosts' clocks
 * do not matter. A lease is about twice the interval: one missed renewal is tolerated.
 *
 * pg_terminate_backend needs the daemons to connect as the same role (or one with
 * pg_signal_backend). A session holding relay locks without a lease row (a daemon of an older
 * version) is never ended.
 */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../db/client.js';
import { RELAY_LOCK_NAMESPACE } from './locks.js';

/** Renews (or creates) the lease of the calling session; returns when it expires (database clock). */
export async function renewLease(session: Queryable, daemonId: string, ttlSeconds: number): Promise<Date> {
  const rows = await query<{ expires_at: Date | string }>(
    session,
    sql`INSERT INTO daemon_leases (pid, daemon_id, renewed_at, expires_at)
        VALUES (pg_backend_pid(), ${daemonId}, now(), now() + make_interval(secs => ${ttlSeconds}))
        ON CONFLICT (pid) DO UPDATE SET daemon_id = excluded.daemon_id, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
        RETURNING expires_at`,
  );
  return new Date(rows[0]!.expires_at);
}

/** Drops the calling session's lease (clean shutdown). */
export async function dropLease(session: Queryable): Promise<void> {
  await session.execute(sql`DELETE FROM daemon_leases WHERE pid = pg_backend_pid()`);
}

export interface EndedOwner {
  pid: number;
  daemonId: string;
  expiredSeconds: number;
}

/**
 * Ends the sessions of relay owners whose lease expired (never the caller's own), and forgets leases
 * of sessions that no longer exist. Returns the owners ended.
 */
export async function endStaleOwners(session: Queryable): Promise<EndedOwner[]> {
  const stale = await query<{ pid: number; daemon_id: string; expired: string }>(
    session,
    sql`SELECT l.pid, l.daemon_id, extract(epoch FROM now() - l.expires_at) AS expired
        FROM daemon_leases l
        WHERE l.expires_at < now() AND l.pid <> pg_backend_pid()
          AND EXISTS (SELECT 1 FROM pg_locks k WHERE k.pid = l.pid AND k.locktype = 'advisory'
                      AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND k.classid = ${RELAY_LOCK_NAMESPACE} AND k.objsubid = 2 AND k.granted)`,
  );
  const ended: EndedOwner[] = [];
  for (const row of stale) {
    const pid = row.pid;
    const result = await query<{ ok: boolean }>(session, sql`SELECT pg_terminate_backend(${pid}) AS ok`);
    if (result[0]?.ok) ended.push({ pid, daemonId: row.daemon_id, expiredSeconds: Number(row.expired) });
  }
  // Leases of sessions gone (ended above, crashed, or closed without dropping their row).
  await session.execute(
    sql`DELETE FROM daemon_leases WHERE pid <> pg_backend_pid() AND (pid NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL) OR pid IN (SELECT value::int FROM json_array_elements_text(${JSON.stringify(ended.map((e) => e.pid))}::json)))`,
  );
  return ended;
}

/** Whether the session `pid` holds an unexpired lease (a fence for writes made on its behalf). */
export async function leaseIsLive(db: Queryable, pid: number): Promise<boolean> {
  const rows = await query<{ live: boolean }>(db, sql`SELECT EXISTS (SELECT 1 FROM daemon_leases WHERE pid = ${pid} AND expires_at > now()) AS live`);
  return rows[0]?.live === true;
}

/** Which of the backends `pids` still exist (a session ended by endStaleOwners goes within moments). */
export async function liveBackends(db: Queryable, pids: readonly number[]): Promise<number[]> {
  const rows = await query<{ pid: number | string }>(
    db,
    sql`SELECT pid FROM pg_stat_activity WHERE pid IN (SELECT value::int FROM json_array_elements_text(${JSON.stringify(pids)}::json))`,
  );
  return rows.map((r) => Number(r.pid));
}
