import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { query } from '../../src/db/client.js';
import { probeDatabase, expectedTables } from '../../src/db/health.js';
import { availableMigrations, runMigrations } from '../../src/db/migrate.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';

describe.each(engines)('database layer on %s', (driver) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('applies every migration and reports healthy with all tables', async () => {
    const health = await probeDatabase(database);
    expect(health.driver).toBe(driver);
    expect(health.migrations.applied).toBe(availableMigrations().length);
    expect(health.tables.missing).toEqual([]);
    expect(health.tables.present).toEqual(expectedTables());
    expect(health.tables.present).toContain('nostr_events');
    expect(health.tables.present).toContain('nostr_profiles');
    expect(health.healthy).toBe(true);
  });

  it('is idempotent: a second migrate applies nothing', async () => {
    expect(await runMigrations(database)).toBe(0);
  });

  it('reports unhealthy, with the reason, when a table is missing', async () => {
    await database.db.execute(sql`ALTER TABLE event_relays RENAME TO event_relays_moved`);
    try {
      const health = await probeDatabase(database);
      expect(health.healthy).toBe(false);
      expect(health.tables.missing).toEqual(['event_relays']);
    } finally {
      await database.db.execute(sql`ALTER TABLE event_relays_moved RENAME TO event_relays`);
    }
  });

  it('returns bigint columns as numbers through the query helper once coerced', async () => {
    const rows = await query<{ n: unknown }>(database.db, sql`SELECT 1700000000::bigint AS n`);
    expect(Number(rows[0]?.n)).toBe(1_700_000_000);
  });
});
