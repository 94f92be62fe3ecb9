/**
 * Feed latency on the embedded engine against a Postgres server, on the same events in the same
 * run (issue 12): GET /v1/feed (sort new, default page, no response cache) p50 on each engine
 * before any ANALYZE (PGlite never analyzes by itself; a server's autovacuum is switched off on the
 * bench tables so "before" is measured, not raced), then after one ANALYZE. Also ANALYZE's own
 * duration per engine (what the daemon's maintenance statement costs).
 *
 *   npx tsx bench/feed-engines.ts [--file bench/.data/events-300k.jsonl] [--pglite-dir DIR] [--requests 41]
 *
 * --pglite-dir: an existing PGlite data directory holding the same file's import, never analyzed
 * (e.g. made by `nostr-cache import` of a build without ANALYZE); it is copied, not changed.
 * Without it the file is imported into a fresh PGlite directory first. Postgres at
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a fresh database, dropped after.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import postgres from 'postgres';
import { createApp } from '../src/api/app.js';
import { ROUTE_GROUPS } from '../src/api/routes/index.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, query, type Database } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { importFile } from '../src/ingest/import-file.js';
import { IngestPipeline } from '../src/ingest/pipeline/pipeline.js';
import { VerifyPool } from '../src/nostr/verify-pool.js';
import { normalizeOptionsFor } from '../src/runtime.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { values } = parseArgs({
  options: { file: { type: 'string', default: 'bench/.data/events-300k.jsonl' }, 'pglite-dir': { type: 'string' }, requests: { type: 'string', default: '41' } },
});
const requests = Number(values.requests);
const log = pino({ level: 'warn' });

async function importInto(database: Database): Promise<number> {
  // Autovacuum off on every table for the bench, so the "before" numbers are before any ANALYZE.
  if (database.driver === 'postgres') {
    const tables = await query<{ t: string }>(database.db, sql`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`);
    for (const { t } of tables) await database.db.execute(sql`ALTER TABLE ${sql.identifier(t)} SET (autovacuum_enabled = false)`);
    // Migrations analyzed the empty tables; forget that too, as on a database created before this change.
    await database.db.execute(sql`DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)`);
  }
  const verifier = await VerifyPool.create({});
  const pipeline = new IngestPipeline({
    db: database.db,
    writeDb: database.writer,
    verifier,
    normalizeOptions: await normalizeOptionsFor({ subclawBases: ['clawstr.com'] }),
    batchSize: 500,
    maxFutureSeconds: 900,
    maxEventBytes: 262_144,
    log,
  });
  const report = await importFile({ pipeline, source: values.file!, log });
  await verifier.close();
  return report.outcomes.accepted;
}

async function feedP50(database: Database): Promise<{ p50: number; min: number; max: number }> {
  const app = createApp({ config: loadConfig({ LOG_LEVEL: 'silent', RESPONSE_CACHE_MB: '0' }), database, log }, ROUTE_GROUPS);
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    const response = await app.request('/v1/feed');
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`feed answered ${response.status}`);
    if (i > 0) times.push(performance.now() - started); // the first request also plans and warms caches
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.floor(q * (times.length - 1))]! * 10) / 10;
  return { p50: at(0.5), min: at(0), max: at(1) };
}

async function analyze(database: Database): Promise<number> {
  const started = performance.now();
  await database.db.execute(sql`ANALYZE`);
  return Math.round(performance.now() - started);
}

const name = `nc_bench_feed_${process.pid}`;
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const scratch = mkdtempSync(join(tmpdir(), 'nc-bench-feed-'));
process.once('SIGTERM', () => void admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => process.exit(143)));
try {
  const pg = await openDatabase({ url: url.toString() });
  await runMigrations(pg);
  let started = performance.now();
  const pgStored = await importInto(pg);
  process.stderr.write(`postgres: ${pgStored} events imported in ${Math.round((performance.now() - started) / 1000)} s\n`);

  let pglite: Database;
  if (values['pglite-dir']) {
    cpSync(values['pglite-dir'], join(scratch, 'pglite'), { recursive: true }); // openDatabase adds /pglite
    pglite = await openDatabase({ dataDir: scratch });
  } else {
    pglite = await openDatabase({ dataDir: scratch });
    await runMigrations(pglite);
    started = performance.now();
    process.stderr.write(`pglite: ${await importInto(pglite)} events imported in ${Math.round((performance.now() - started) / 1000)} s\n`);
  }
  const count = async (d: Database) => Number((await query<{ n: string }>(d.db, sql`SELECT count(*) AS n FROM nostr_events`))[0]!.n);
  const rows = { postgres: await count(pg), pglite: await count(pglite) };

  const before = { postgres: await feedP50(pg), pglite: await feedP50(pglite) };
  const analyzeMs = { postgres: await analyze(pg), pglite: await analyze(pglite) };
  const after = { postgres: await feedP50(pg), pglite: await feedP50(pglite) };
  console.log(JSON.stringify({ file: values.file, rows, requests: requests - 1, before, analyzeMs, after, ratioAfter: Math.round((after.pglite.p50 / after.postgres.p50) * 10) / 10, load: loadavg().map((l) => Math.round(l * 10) / 10) }, null, 2));
  await pglite.close();
  await pg.close();
} finally {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  rmSync(scratch, { recursive: true, force: true });
}
