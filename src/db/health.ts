/** The database health probe used by /health, `nostr-cache health` and tests. */
import { sql } from 'drizzle-orm';
import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { query, type Database, type Driver } from './client.js';
import { appliedMigrationCount, availableMigrations } from './migrate.js';
import * as schema from './schema/index.js';

export interface DatabaseHealth {
  healthy: boolean;
  driver: Driver;
  location: string;
  migrations: { applied: number; available: number };
  tables: { expected: number; present: string[]; missing: string[] };
  error?: string;
}

export function expectedTables(): string[] {
  const tables: string[] = [];
  for (const value of Object.values(schema) as unknown[]) {
    if (is(value, PgTable)) tables.push(getTableName(value));
  }
  return tables.sort();
}

export async function probeDatabase(database: Database): Promise<DatabaseHealth> {
  const expected = expectedTables();
  const available = availableMigrations().length;
  try {
    const rows = await query<{ table_name: string }>(
      database.db,
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const present = new Set(rows.map((r) => r.table_name));
    const applied = await appliedMigrationCount(database);
    const missing = expected.filter((t) => !present.has(t));
    return {
      healthy: missing.length === 0 && applied === available,
      driver: database.driver,
      location: database.location,
      migrations: { applied, available },
      tables: { expected: expected.length, present: expected.filter((t) => present.has(t)), missing },
    };
  } catch (error) {
    return {
      healthy: false,
      driver: database.driver,
      location: database.location,
      migrations: { applied: 0, available },
      tables: { expected: expected.length, present: [], missing: expected },
      error: (error as Error).message,
    };
  }
}
