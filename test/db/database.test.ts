import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { query } from '../../src/db/client.js';
import { probeDatabase, expectedTables } from '../../src/db/health.js';
import { availableMigrations, migrationsFolder, runMigrations } from '../../src/db/migrate.js';
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

  it('upgrades seen-on rows kept per (event, relay) to one row per event, relays in first-seen order', async () => {
    const upgrade = await createTestDatabase(driver);
    try {
      // Back to the table before 0002, with rows; then 0002's statements, as the migrator runs them.
      await upgrade.db.execute(sql`DROP TABLE event_relays`);
      await upgrade.db.execute(sql`CREATE TABLE event_relays (event_id text NOT NULL, relay text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (event_id, relay))`);
      await upgrade.db.execute(sql`INSERT INTO event_relays VALUES ('a', 'wss://two', '2026-01-01T00:02:00Z'),
        ('a', 'wss://one', '2026-01-01T00:01:00Z'), ('b', 'wss://one', '2026-01-01T00:03:00Z')`);
      const migration = readFileSync(join(migrationsFolder(), '0002_event_relays_per_event.sql'), 'utf8');
      for (const statement of migration.split('--> statement-breakpoint')) await upgrade.db.execute(sql.raw(statement));

      const rows = await query<{ event_id: string; relays: string[]; first_seen_at: Date | string }>(
        upgrade.db,
        sql`SELECT event_id, relays, first_seen_at FROM event_relays ORDER BY event_id`,
      );
      expect(rows.map((r) => [r.event_id, r.relays, new Date(r.first_seen_at).toISOString()])).toEqual([
        ['a', ['wss://one', 'wss://two'], '2026-01-01T00:01:00.000Z'],
        ['b', ['wss://one'], '2026-01-01T00:03:00.000Z'],
      ]);
    } finally {
      await upgrade.destroy();
    }
  });

  it('returns bigint columns as numbers through the query helper once coerced', async () => {
    const rows = await query<{ n: unknown }>(database.db, sql`SELECT 1700000000::bigint AS n`);
    expect(Number(rows[0]?.n)).toBe(1_700_000_000);
  });
});
