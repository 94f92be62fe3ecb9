/**
 * Explicit coverage holes (src/store/ingest-state.ts): recorded once per exact interval, and
 * cleared only when one covered range holds exactly that interval: partial coverage, or coverage
 * of another (relay, scope), leaves it; a hole's neighbour with another interval stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearProvenHole, loadHoles, recordCoverage, recordHoles } from '../../src/store/ingest-state.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';

const RELAY = 'wss://relay.example/';

describe.each(engines)('coverage holes on %s', (driver) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('keeps a hole until exactly its interval is covered', async () => {
    const db = database.db;
    await db.transaction(async (tx) => {
      await recordHoles(tx, RELAY, 'a', [{ since: 100, until: 200 }, { since: 150, until: 300 }]);
      // Recorded again (a restart's catch-up finds the same hole): kept once.
      await recordHoles(tx, RELAY, 'a', [{ since: 100, until: 200 }]);
    });
    expect((await loadHoles(db)).map(({ since, until }) => [since, until])).toEqual([[100, 200], [150, 300]]);

    // Not covered, partly covered, covered for another scope: the hole stays.
    expect(await clearProvenHole(db, RELAY, 'a', { since: 100, until: 200 })).toBe(false);
    await db.transaction(async (tx) => {
      await recordCoverage(tx, RELAY, 'a', { since: 100, until: 199 });
      await recordCoverage(tx, RELAY, 'b', { since: 0, until: 1000 });
    });
    expect(await clearProvenHole(db, RELAY, 'a', { since: 100, until: 200 })).toBe(false);

    // Covered to its last second: that hole goes, the overlapping one does not.
    await db.transaction((tx) => recordCoverage(tx, RELAY, 'a', { since: 200, until: 250 }));
    expect(await clearProvenHole(db, RELAY, 'a', { since: 100, until: 200 })).toBe(true);
    expect(await clearProvenHole(db, RELAY, 'a', { since: 150, until: 300 })).toBe(false);
    expect((await loadHoles(db)).map(({ scope, since, until }) => [scope, since, until])).toEqual([['a', 150, 300]]);
  });
});
