import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { query } from '../../src/db/client.js';
import { probeDatabase, expectedTables } from '../../src/db/health.js';
import { coverageRanges } from '../../src/db/schema/ingest.js';
import { eventStats } from '../../src/db/schema/nostr.js';
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

  // db/client.ts registers the int8 parser for both drivers; what each gives must be identical.
  const INT8_PROBE = sql`SELECT 1700000000::bigint AS seconds, count(*) AS n, ARRAY[1, 2]::bigint[] AS list,
    9007199254740991::bigint AS max_safe, 9007199254740993::bigint AS beyond, -9007199254740993::bigint AS below,
    sum(v) AS total, sum(v)::text AS total_text
    FROM (VALUES (9223372036854775807::bigint), (1::bigint)) AS t(v)`;
  const INT8_EXPECTED = {
    seconds: 1_700_000_000,
    n: 2,
    list: [1, 2],
    max_safe: Number.MAX_SAFE_INTEGER,
    // Beyond 2^53 an int8 stays exact, as its decimal text, never a rounded number.
    beyond: '9007199254740993',
    below: '-9007199254740993',
    // numeric (sum of int8) is the exact decimal text on both drivers.
    total: '9223372036854775808',
    total_text: '9223372036854775808',
  };

  it('parses int8 the same way on every handle: numbers, exact text beyond 2^53, numeric as text', async () => {
    for (const handle of [database.db, database.reads, database.writer]) {
      expect(await query(handle, INT8_PROBE)).toEqual([INT8_EXPECTED]);
    }
  });

  it('keeps the int8 parser on the pool that replaces a lost one', async () => {
    const replaced = await database.recover(Object.assign(new Error('gone'), { code: 'ECONNRESET' }));
    expect(replaced).toBe(database.driver === 'postgres');
    for (const handle of [database.db, database.reads, database.writer]) {
      expect(await query(handle, INT8_PROBE)).toEqual([INT8_EXPECTED]);
    }
  });

  it("gives Drizzle's bigint columns exact values in either mode", async () => {
    const id = 'f'.repeat(64);
    await database.db.insert(eventStats).values({ eventId: id, replies: 1, zapMsat: 2n ** 63n - 1n });
    const [row] = await database.db.select().from(eventStats).where(eq(eventStats.eventId, id));
    expect(row).toMatchObject({ replies: 1, zapMsat: 9223372036854775807n });
    await database.db.insert(coverageRanges).values({ relay: 'wss://x', scope: 's', since: 0, until: 1_700_000_000 });
    const [range] = await database.db.select().from(coverageRanges).where(eq(coverageRanges.relay, 'wss://x'));
    expect(range).toMatchObject({ since: 0, until: 1_700_000_000 });
    await database.db.delete(eventStats).where(eq(eventStats.eventId, id));
    await database.db.delete(coverageRanges).where(eq(coverageRanges.relay, 'wss://x'));
  });
});
