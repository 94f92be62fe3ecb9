/**
 * Opens the database: embedded PGlite by default (a data directory, or in memory for tests), or a
 * Postgres server through postgres.js when a URL is given. Both serve the same Drizzle schema and
 * the same migrations; callers only see `Database`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { listenPglite, listenPostgres, type Channel, type ChannelHandlers, type PostgresChannelOptions } from './listen.js';
import { initFromTemplate } from './pglite-template.js';
import { guardPostgresJs } from './postgres-js-guard.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type AppDatabase = PgDatabase<PgQueryResultHKT, Schema>;
/** A database handle or an open transaction: both run queries. */
export type Queryable = Pick<AppDatabase, 'execute' | 'select' | 'insert' | 'update' | 'delete'>;
export type Driver = 'pglite' | 'postgres';

export interface Database {
  driver: Driver;
  db: AppDatabase;
  /**
   * The handle of the read API's queries (store/queries): fixed-shape statements, so on a Postgres
   * server they run as prepared statements, parsed once per connection instead of every time. Plans
   * stay Postgres' choice (custom plans by default), so skewed parameters such as a popular
   * subclaw keep their own plan. Same pool as `db`. On PGlite it is `db`.
   */
  reads: AppDatabase;
  /**
   * The handle for the ingest writer's transactions. On a Postgres server it is its own one-connection
   * pool, used by nothing else, so `recover` always replaces it before its next query (see
   * openPostgres). On PGlite it is `db`.
   */
  writer: AppDatabase;
  /** Where the data lives, without credentials (for logs and health). */
  location: string;
  /** The server URL (postgres driver only); never logged. */
  url?: string;
  /**
   * After a failed query: if the error means the server connection is gone, replace the driver's
   * connection pool and return true (the caller retries). See openPostgres for why.
   */
  recover(error: unknown): Promise<boolean>;
  /** LISTEN on a channel, with up/down reported (listen.ts). Options apply to a Postgres server. */
  listen(channel: string, handlers: ChannelHandlers, options?: PostgresChannelOptions): Promise<Channel>;
  /**
   * A new dedicated session: one server connection held open until closed, for session-level
   * advisory locks (relay ownership). On PGlite, the one in-process session (`db`).
   */
  session(): DedicatedSession;
  /** PGlite: the size of its WebAssembly heap in bytes (it grows, never shrinks); null on a server. */
  engineMemoryBytes(): number | null;
  close(): Promise<void>;
}

export interface DedicatedSession {
  db: AppDatabase;
  /**
   * Resolves when the session's connection is gone: its session locks went with it. Never on
   * PGlite. A lost session is abandoned, not reused: open a new one.
   */
  lost: Promise<void>;
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
  /** PGlite server settings (`-c name=value` at start), added to and overriding PGLITE_SETTINGS. */
  pgliteSettings?: Record<string, string>;
}

/**
 * How int8 and numeric values arrive, registered here once for both drivers, so that raw SQL
 * (`query()`) sees the same JavaScript types on PGlite and on a Postgres server (by default
 * postgres.js gives int8 as a string and PGlite as a number or, beyond 2^53, a bigint).
 *
 * - int8 (bigint columns, count(*), pids, advisory lock keys) becomes a JS number. Every int8 that
 *   is read as a number is bounded far below Number.MAX_SAFE_INTEGER (2^53 - 1): Nostr timestamps
 *   (created_at, expires_at, deleted_at: safe integers checked at ingest, nostr/event-shape.ts and
 *   normalize/tags.ts), coverage bounds, counts, pids, credits and counters. The two int8 columns
 *   that are not bounded, zaps.amount_msat and event_stats.zap_msat (a receipt's amount is whatever
 *   its bolt11 says, up to 2^63 msat, and totals add up), are read as text in SQL (`::text`, or
 *   sum() below) or through Drizzle's bigint mode. As a guard, an int8 beyond 2^53 still arrives
 *   exact, as its decimal string, never rounded; Drizzle's bigint mode (BigInt(value)) stays exact.
 * - numeric (sum() of int8, ranking scores) stays the exact decimal string both drivers give
 *   by default: no numeric value is turned into a lossy number here.
 * - json/jsonb are parsed by both drivers already.
 */
export function parseInt8(text: string): number {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : (text as unknown as number);
}

/** postgres.js: the int8 parser (its `types` option); parameters are serialised as before ('' + x). */
const POSTGRES_TYPES = { int8: { to: 20, from: [20], parse: parseInt8, serialize: (x: unknown) => String(x) } };

/** PGlite: the same parser for int8 (its `parsers` option; int8[] follows it). */
const PGLITE_PARSERS = { [pgliteTypes.INT8]: parseInt8 };

/** PGlite's own start parameters (single-user mode, no parallel workers, ...), kept when adding settings. */
const PGLITE_START_PARAMS: readonly string[] = (PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams;

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options.maxConnections ?? 10);
  return openPglite(options.memory ? undefined : resolve(options.dataDir ?? './data', 'pglite'), { ...PGLITE_SETTINGS, ...options.pgliteSettings });
}

/**
 * PGlite's server settings. Its WebAssembly heap grows to the most it ever held and never gives
 * memory back, so whatever Postgres caches counts in the process's RSS for good: shared_buffers
 * (128 MB by PGlite's default) is kept small; the operating system's page cache keeps the data
 * files warm anyway (bench/RESULTS.md, "Maintenance", for the import's peak RSS).
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '32MB',
};

/**
 * A new data directory is unpacked from the shipped template (pglite-template.ts). Without one for
 * this PGlite, it is initialised by a short-lived child process: initdb's WebAssembly instance never
 * gives its memory back, so done here it would stay in this process's RSS (a fresh 300k-event
 * import peaked at 880 MB, of which ~590 MB was initdb; bench/RESULTS.md, "Maintenance").
 */
async function initPgliteDir(dataDir: string): Promise<void> {
  const script = fileURLToPath(new URL(`./pglite-init.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
  const args = script.endsWith('.ts') ? ['--import', 'tsx', script, dataDir] : [script, dataDir];
  await promisify(execFile)(process.execPath, args, { timeout: 300_000 });
}

async function openPglite(dataDir: string | undefined, settings: Record<string, string>): Promise<Database> {
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    if (!existsSync(join(dataDir, 'PG_VERSION')) && !initFromTemplate(dataDir)) await initPgliteDir(dataDir);
  }
  const startParams = [...PGLITE_START_PARAMS, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  const client = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { vector }, startParams, parsers: PGLITE_PARSERS });
  const db = drizzlePglite(client, { schema }) as unknown as AppDatabase;
  return {
    driver: 'pglite',
    db,
    reads: db,
    writer: db,
    location: dataDir ?? 'memory',
    recover: async () => false,
    // One process, one session: locks taken here are always granted and never lost.
    session: () => ({ db, lost: new Promise<void>(() => {}), close: async () => {} }),
    listen: (channel, handlers) => listenPglite(client, channel, handlers),
    engineMemoryBytes: () => (client as unknown as { mod?: { HEAPU8?: Uint8Array } }).mod?.HEAPU8?.length ?? null,
    close: () => client.close(),
  };
}

/** Errors meaning the server connection is gone (driver codes, and SQLSTATE classes 08 and 57P). */
export function isConnectionLost(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (/^(CONNECTION_CLOSED|CONNECTION_DESTROYED|CONNECTION_ENDED|CONNECT_TIMEOUT|ECONNREFUSED|ECONNRESET|EPIPE)$/.test(code)) return true;
    if (/^(08...|57P0[1-3])$/.test(code)) return true;
  }
  return false;
}

/**
 * A Drizzle handle over a replaceable postgres.js client. postgres.js 3.4.9 can leave a connection
 * whose backend was terminated inside a transaction in its pool; the next query on it throws from a
 * timer (porsager/postgres#1199) and the pool never recovers. `replace` swaps in a fresh pool and
 * abandons the old one; every holder of the handle keeps working.
 */
function replaceablePool(url: string, max: number): { db: AppDatabase; reads: AppDatabase; replace(): void; end(): Promise<void> } {
  // JIT compilation costs 50-90 ms on short feed queries (measured in bench/read-api.ts): off.
  const makeClient = () => postgres(url, { max, onnotice: () => {}, types: POSTGRES_TYPES, connection: { jit: 'off' } });
  let current = makeClient();
  const delegate = new Proxy(function delegatedClient() {} as unknown as postgres.Sql, {
    get(_target, property) {
      const value = (current as unknown as Record<PropertyKey, unknown>)[property];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
    apply(_target, _this, args: unknown[]) {
      return (current as unknown as (...a: unknown[]) => unknown)(...args);
    },
  });
  const db = drizzlePostgres(delegate, { schema }) as unknown as AppDatabase;
  // Drizzle's execute() asks for unnamed statements; this view of the same pool prepares them.
  const preparing = new Proxy(delegate, {
    get(target, property, receiver) {
      if (property !== 'unsafe') return Reflect.get(target, property, receiver);
      return (text: string, params?: unknown[], options?: Record<string, unknown>) =>
        current.unsafe(text, params as never[], { ...options, prepare: true });
    },
  });
  const reads = drizzlePostgres(preparing, { schema }) as unknown as AppDatabase;
  return {
    db,
    reads,
    replace() {
      const old = current;
      current = makeClient();
      // Drizzle tuned the first client's type parsers; the replacement gets the same.
      Object.assign(current.options.parsers, old.options.parsers);
      Object.assign(current.options.serializers, old.options.serializers);
      // The old pool is dropped, not ended: its connections are already dead on the server, and
      // ending it destroys queries lost on them, a rejection postgres.js leaves unhandled.
      void old;
    },
    end: () => current.end({ timeout: 5 }),
  };
}

/**
 * Reads (and the API) use the main pool; the ingest writer's transactions use their own pool of one
 * connection. Only the writer runs transactions during ingest, and its retry loop calls `recover`
 * before its next query, so a terminated backend can never poison a pool another caller is using.
 */
function openPostgres(url: string, max: number): Database {
  const main = replaceablePool(url, max);
  const writer = replaceablePool(url, 1);
  const unguard = guardPostgresJs(() => {
    writer.replace();
    main.replace();
  });
  const parsed = new URL(url);
  return {
    driver: 'postgres',
    db: main.db,
    reads: main.reads,
    writer: writer.db,
    location: `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`,
    url,
    async recover(error) {
      if (!isConnectionLost(error)) return false;
      writer.replace();
      main.replace();
      return true;
    },
    session: () => dedicatedSession(url),
    engineMemoryBytes: () => null,
    listen: async (channel, handlers, options) => listenPostgres(url, channel, handlers, options),
    close: async () => {
      unguard();
      await Promise.all([main.end(), writer.end()]);
    },
  };
}

/**
 * One connection that is never recycled (no idle timeout, no max lifetime: postgres.js would
 * otherwise reconnect after 30-60 minutes and silently drop the session's locks). When the
 * connection closes, `lost` resolves; postgres.js would reconnect on the next query, so the caller
 * must treat every lock of this session as gone and open a new session.
 */
function dedicatedSession(url: string): DedicatedSession {
  let onLost: () => void = () => {};
  const lost = new Promise<void>((resolve) => (onLost = resolve));
  const client = postgres(url, {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    onnotice: () => {},
    types: POSTGRES_TYPES,
    onclose: () => onLost(),
    connection: { application_name: 'nostr-cache relay ownership' },
  });
  return {
    db: drizzlePostgres(client, { schema }) as unknown as AppDatabase,
    lost,
    close: () => client.end({ timeout: 5 }),
  };
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function query<T>(db: Queryable, statement: SQL): Promise<T[]> {
  const result = (await db.execute(statement)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
