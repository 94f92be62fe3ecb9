/**
 * A daemon whose database role may not end another role's sessions (no pg_signal_backend, the
 * other a superuser): ending a hung owner fails, and that failure must not count as its own lock
 * session lost. It keeps serving, takes the free relays, and leaves the hung owner's relay alone.
 * Postgres only (roles and several sessions).
 */
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type DedicatedSession } from '../../../src/db/client.js';
import { RelayOwnership } from '../../../src/ingest/fleet/ownership.js';
import { createLogger } from '../../../src/log.js';
import { renewLease } from '../../../src/store/leases.js';
import { relayLockKey, tryRelayLocks } from '../../../src/store/locks.js';
import { adminUrl, createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { waitFor } from '../../helpers/ingest.js';

const ROLE = 'nc_test_lease_other';

describe.each(engines.filter((e) => e === 'postgres'))('ending a hung owner without the right on %s', (driver) => {
  let database: TestDatabase | undefined;
  let other: Database | undefined;
  let hung: DedicatedSession | undefined;
  let ownership: RelayOwnership | undefined;
  afterAll(async () => {
    await ownership?.close();
    await hung?.close().catch(() => undefined);
    await other?.close();
    await database?.destroy();
  });

  it('is logged and the sweep goes on: no session lost, the free relay taken', async () => {
    database = await createTestDatabase(driver);
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`DO $$ BEGIN CREATE ROLE ${ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    } finally {
      await admin.end();
    }
    await database.db.execute(sql.raw(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${ROLE}`));
    const url = new URL(database.url!);
    url.username = ROLE;
    other = await openDatabase({ url: url.toString(), maxConnections: 2 });

    // A superuser's session holds a relay lock under a lease that then lapses (a hung owner).
    const [hungRelay, freeRelay] = ['wss://hung.example/', 'wss://free.example/'];
    hung = database.session();
    expect(await tryRelayLocks(hung.db, [relayLockKey(hungRelay)])).toHaveLength(1);
    await renewLease(hung.db, 'hung-daemon', -1);

    const lost: string[][] = [];
    ownership = new RelayOwnership({
      openSession: () => other!.session(),
      log: createLogger('silent'),
      onLost: (relays) => lost.push(relays),
      lease: { seconds: 30, renewEveryMs: 60_000 },
    });
    const change = await ownership.sweep([hungRelay, freeRelay]);
    expect(change.lost).toEqual([]);
    expect(change.acquired).toEqual([freeRelay]);
    const report = ownership.report([hungRelay, freeRelay]);
    expect(report).toMatchObject({ owned: [freeRelay], ownedElsewhere: [hungRelay], sessionsLost: 0, lastError: null, staleOwnersEnded: 0 });
    expect(report.leaseExpiresAt).not.toBeNull();
    // And again: the next sweep keeps what it holds.
    await waitFor(async () => (await ownership!.sweep([hungRelay, freeRelay])).lost.length === 0, 'a second sweep');
    expect(ownership.report([hungRelay, freeRelay])).toMatchObject({ owned: [freeRelay], sessionsLost: 0 });
    expect(lost).toEqual([]);
  });
});
