/**
 * Opens the database: embedded PGlite by default (a data directory, or in memory for tests), or a
 * Postgres server through postgres.js when a URL is given. Both serve the same Drizzle schema and
 * the same migrations; callers only see `Database`.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type AppDatabase = PgDatabase<PgQueryResultHKT, Schema>;
/** A database handle or an open transaction: both run queries. */
export type Queryable = Pick<AppDatabase, 'execute' | 'select' | 'insert' | 'update' | 'delete'>;
export type Driver = 'pglite' | 'postgres';

export interface Database {
  driver: Driver;
  db: AppDatabase;
  /** Where the data lives, without credentials (for logs and health). */
  location: string;
  /** The server URL (postgres driver only); never logged. */
  url?: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** postgres://… selects a Postgres server; absent selects PGlite. */
  url?: string | undefined;
  /** PGlite data directory; ignored with `url`. */
  dataDir?: string | undefined;
  /** PGlite in memory (tests). */
  memory?: boolean;
  /** Pool size for a Postgres server. */
  maxConnections?: number;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options.maxConnections ?? 10);
  return openPglite(options.memory ? undefined : resolve(options.dataDir ?? './data', 'pglite'));
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { vector } });
  return {
    driver: 'pglite',
    db: drizzlePglite(client, { schema }) as unknown as AppDatabase,
    location: dataDir ?? 'memory',
    close: () => client.close(),
  };
}

function openPostgres(url: string, max: number): Database {
  const client = postgres(url, { max, onnotice: () => {} });
  const parsed = new URL(url);
  return {
    driver: 'postgres',
    db: drizzlePostgres(client, { schema }) as unknown as AppDatabase,
    location: `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`,
    url,
    close: () => client.end({ timeout: 5 }),
  };
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function query<T>(db: Queryable, statement: SQL): Promise<T[]> {
  const result = (await db.execute(statement)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
