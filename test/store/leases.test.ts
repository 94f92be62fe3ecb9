/**
 * Daemon leases (src/store/leases.ts): a session that holds relay locks and stops renewing its lease
 * is ended from the database side by another session, which then takes the relay lock; a live lease,
 * a session without a lease, and the caller's own session are never ended. On PGlite (one in-process
 * session) renewal and the fence work and nothing is ever ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DedicatedSession } from '../../src/db/client.js';
import { relayLockHolders, relayLockKey, tryRelayLocks } from '../../src/store/locks.js';
import { dropLease, endStaleOwners, leaseIsLive, renewLease } from '../../src/store/leases.js';
import { query } from '../../src/db/client.js';
import { sql } from 'drizzle-orm';
import { until } from '../api/helpers.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';

const KEY = relayLockKey('wss://relay.example/');

describe.each(engines)('daemon leases on %s', (driver) => {
  let database: TestDatabase;
  const sessions: DedicatedSession[] = [];
  const open = () => {
    const s = database.session();
    sessions.push(s);
    return s;
  };
  const pidOf = async (s: DedicatedSession) => Number((await query<{ pid: number }>(s.db, sql`SELECT pg_backend_pid() AS pid`))[0]!.pid);

  beforeAll(async () => {
    database = await createTestDatabase(driver);
  });
  afterAll(async () => {
    if (driver === 'postgres') for (const s of sessions) await s.close().catch(() => undefined);
    await database?.destroy();
  });

  it('renews from the database clock and fences on expiry', async () => {
    const session = open();
    const pid = await pidOf(session);
    const expires = await renewLease(session.db, 'daemon-a', 30);
    expect(expires.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await leaseIsLive(database.db, pid)).toBe(true);
    await renewLease(session.db, 'daemon-a', -1);
    expect(await leaseIsLive(database.db, pid)).toBe(false);
    // The caller's own session is never ended, even with an expired lease.
    expect(await endStaleOwners(session.db)).toEqual([]);
    await dropLease(session.db);
    expect(await leaseIsLive(database.db, pid)).toBe(false);
  });
});

// Several sessions with their own backends exist only on a Postgres server.
describe.each(engines.filter((e) => e === 'postgres'))('stale owners on %s', (driver) => {
  let database: TestDatabase;
  const sessions: DedicatedSession[] = [];
  const open = () => {
    const s = database.session();
    sessions.push(s);
    return s;
  };
  const pidOf = async (s: DedicatedSession) => Number((await query<{ pid: number }>(s.db, sql`SELECT pg_backend_pid() AS pid`))[0]!.pid);
  beforeAll(async () => {
    database = await createTestDatabase(driver);
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await database?.destroy();
  });

  it('ends a hung owner whose lease expired; the relay is taken over', async () => {
    const hung = open();
    const taker = open();
    const bystander = open();
    const hungPid = await pidOf(hung);
    expect(await tryRelayLocks(hung.db, [KEY])).toEqual([KEY]);
    // A session with locks and no lease (an older daemon) and a live lease are left alone.
    expect(await tryRelayLocks(bystander.db, [KEY + 1])).toEqual([KEY + 1]);
    await renewLease(hung.db, 'hung-daemon', 2);
    expect(await endStaleOwners(taker.db)).toEqual([]);
    expect(await tryRelayLocks(taker.db, [KEY])).toEqual([]);

    // The owner stops renewing (SIGSTOP): its lease runs out on the database clock.
    const ended = (await until(async () => {
      const e = await endStaleOwners(taker.db);
      return e.length > 0 ? e : null;
    }, 'the stale owner is ended', 20_000)) as Awaited<ReturnType<typeof endStaleOwners>>;
    expect(ended.map((e) => e.pid)).toEqual([hungPid]);
    expect(ended[0]!.daemonId).toBe('hung-daemon');
    await hung.lost;
    await until(async () => (await tryRelayLocks(taker.db, [KEY])).includes(KEY), 'the taker holds the relay lock');
    const holders = await relayLockHolders(taker.db);
    expect(holders.mine).toContain(KEY);
    expect(holders.others).toContain(KEY + 1);
    expect(await leaseIsLive(database.db, hungPid)).toBe(false);
    const rows = await query<{ n: number | string }>(database.db, sql`SELECT count(*) AS n FROM daemon_leases WHERE pid = ${hungPid}`);
    expect(Number(rows[0]!.n)).toBe(0);
  });
});
