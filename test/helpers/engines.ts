/**
 * Every storage test runs on both engines: PGlite in memory, and a real Postgres server (a fresh
 * database per test file on TEST_DATABASE_URL, default the CI server's `test` database, dropped after).
 * NOSTR_CACHE_TEST_ENGINES=pglite limits a local run to one engine; CI runs both.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database, type Driver } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';

export const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const engines: Driver[] = (process.env.NOSTR_CACHE_TEST_ENGINES ?? 'pglite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Driver => s === 'pglite' || s === 'postgres');

export interface TestDatabase extends Database {
  /** Drops the database (postgres) or closes it (pglite). */
  destroy(): Promise<void>;
}

/** Creates an empty database on the given engine, migrated (by the migrations in `migrationsFolder`, default all). */
export async function createTestDatabase(driver: Driver, migrationsFolder?: string): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const database = await openDatabase({ memory: true });
    await runMigrations(database, migrationsFolder);
    return { ...database, destroy: () => database.close() };
  }
  const name = `nc_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), maxConnections: 4 });
  await runMigrations(database, migrationsFolder);
  return {
    ...database,
    destroy: async () => {
      await database.close();
      const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
