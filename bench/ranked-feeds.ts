/**
 * Ranked feeds benchmark (issue 14): sort=top and sort=hot pages against sort=new, uncached, over
 * HTTP with wrk at 64 connections and at 1, on the database bench/read-api.ts loads, served by the
 * starting commit's code ("before": every request scores the window's posts) and by this branch's
 * ("after": stored rankings), in the same run. Also times one hot snapshot refresh and writes
 * EXPLAIN plans. Writes the "## Ranked feeds" section of bench/RESULTS.md.
 *
 *   npx tsx bench/generate-events.ts --count 1000000 --seed 1 --now $(date +%s) --out bench/.data/read-1m.jsonl
 *   npx tsx bench/read-api.ts --file bench/.data/read-1m.jsonl --db nc_bench_14 --load-only
 *   git archive <starting commit> | tar -x -C bench/.data/before && ln -s "$PWD/node_modules" bench/.data/before/
 *   npx tsx bench/ranked-feeds.ts --db nc_bench_14 --before-dir bench/.data/before [--duration 10]
 *
 * Events are generated with `--now` at generation time, so week windows hold posts (the default
 * fixed `now` of 2025 would leave them empty).
 */
import { execFile, spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { SQL } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase, type Queryable } from '../src/db/client.js';
import { rankedFeedPage } from '../src/store/queries/ranked-feed.js';
import { latestHotGeneration, refreshHotRanking } from '../src/store/ranking.js';
import { writeResultsSection } from './results.js';

const execFileAsync = promisify(execFile);
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const DB_NAME = option('db', 'nc_bench_14');
const BEFORE_DIR = resolve(option('before-dir', 'bench/.data/before'));
const DURATION = Number(option('duration', '10'));
const CONNECTIONS = Number(option('connections', '64'));
const PORT = Number(option('port', '8814'));
const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_URL = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${DB_NAME}`;
  return u.toString();
})();

interface Measured {
  p50: number;
  p99: number;
  rps: number;
  errors?: string;
}

function wrkLatencyMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrk(path: string, seconds: number, connections: number): Promise<Measured> {
  const threads = Math.min(2, connections);
  const { stdout } = await execFileAsync(
    'wrk',
    ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '60s', '--latency', `http://127.0.0.1:${PORT}${path}`],
    { encoding: 'utf8' },
  );
  const p50 = /\n\s+50%\s+(\S+)/.exec(stdout)?.[1];
  const p99 = /\n\s+99%\s+(\S+)/.exec(stdout)?.[1];
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1];
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? /Socket errors: (.*)/.exec(stdout)?.[1];
  return { p50: wrkLatencyMs(p50 ?? ''), p99: wrkLatencyMs(p99 ?? ''), rps: Number(rps), ...(errors ? { errors } : {}) };
}

/** `nostr-cache serve` from `dir`, uncached; resolves once /health answers. */
async function startServer(dir: string): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: DB_URL, PORT: String(PORT), HOST: '127.0.0.1', LOG_LEVEL: 'info', RESPONSE_CACHE_MB: '0' },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  for (let i = 0; i < 300; i++) {
    await sleep(200);
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/health`)).ok) break;
    } catch {
      // not up yet
    }
  }
  return async () => {
    // A second signal makes the server exit at once instead of draining a backlog of slow pages.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGTERM'), 3_000);
    await exited;
    clearTimeout(timer);
  };
}

/**
 * Waits until no other session runs a statement on the bench database (a stopped server's slow
 * scoring queries outlive it), cancelling what still runs after `maxSeconds`, so a measurement
 * never shares Postgres with the previous one's backlog.
 */
async function quiesce(sql: postgres.Sql, maxSeconds = 20): Promise<void> {
  const active = async () =>
    Number(
      ((await sql`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`) as unknown as [{ n: number }])[0].n,
    );
  for (let i = 0; i < maxSeconds * 4; i++) {
    if ((await active()) === 0) return;
    await sleep(250);
  }
  await sql`SELECT pg_cancel_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`;
  await sleep(500);
}

interface Scenario {
  name: string;
  path: string;
  /** Path of the page whose ratio to this one is reported (sort=new of the same scope). */
  baseline?: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'new', path: '/v1/feed?limit=50' },
  { name: 'top, window=all', path: '/v1/feed?sort=top&window=all&limit=50', baseline: 'new' },
  { name: 'top, window=week', path: '/v1/feed?sort=top&window=week&limit=50', baseline: 'new' },
  { name: 'hot, window=all', path: '/v1/feed?sort=hot&window=all&limit=50', baseline: 'new' },
  { name: 'hot, window=week', path: '/v1/feed?sort=hot&window=week&limit=50', baseline: 'new' },
];

/** Page 2 of a feed (the cursor of its first page), read from the running server. */
async function secondPage(path: string): Promise<string> {
  const body = (await (await fetch(`http://127.0.0.1:${PORT}${path}`)).json()) as { next_cursor: string | null };
  return body.next_cursor ? `${path}&cursor=${encodeURIComponent(body.next_cursor)}` : path;
}

async function explainRanked(sql: postgres.Sql, sort: 'top' | 'hot', windowSeconds: number | null, now: number): Promise<string> {
  const dialect = new PgDialect();
  const statements: Array<{ text: string; params: unknown[] }> = [];
  const recorder = {
    execute: async (statement: SQL) => {
      const q = dialect.sqlToQuery(statement);
      statements.push({ text: q.sql, params: q.params });
      return [];
    },
  } as unknown as Queryable;
  const generation = sort === 'hot' ? await latestHotGeneration(await benchDb()) : null;
  const ref = generation?.ref ?? now;
  await rankedFeedPage(recorder, {
    sort,
    ai: 'all',
    ref,
    now,
    limit: 51,
    ...(windowSeconds === null ? {} : { windowStart: ref - windowSeconds }),
    ...(generation ? { generation: generation.generation } : {}),
  });
  const s = statements[0]!;
  const rows = await sql.unsafe(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${s.text}`, s.params as never[]);
  return rows.map((r) => (r as Record<string, string>)['QUERY PLAN']).join('\n');
}

let opened: Awaited<ReturnType<typeof openDatabase>> | undefined;
async function benchDb() {
  opened ??= await openDatabase({ url: DB_URL, maxConnections: 2 });
  return opened.db;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : 'n/a');

interface Row {
  server: 'before' | 'after';
  scenario: string;
  connections: number;
  m: Measured;
}

async function main(): Promise<void> {
  const sql = postgres(DB_URL, { max: 2, onnotice: () => {}, connection: { jit: 'off' } });
  const [{ n: events }] = (await sql`SELECT count(*)::int AS n FROM nostr_events`) as unknown as [{ n: number }];
  const [{ n: ranked }] = (await sql`SELECT count(*)::int AS n FROM post_ranking`) as unknown as [{ n: number }];
  const now = Math.floor(Date.now() / 1000);
  const [{ n: week }] = (await sql`SELECT count(*)::int AS n FROM post_ranking WHERE created_at >= ${now - 7 * 86_400}`) as unknown as [{ n: number }];
  const loadBefore = loadavg()[0]!;

  // One refresh timed here (the server's schedule makes its own on start).
  const refreshStarted = performance.now();
  const refresh = await refreshHotRanking(await benchDb(), now);
  const refreshMs = performance.now() - refreshStarted;
  console.error(`hot refresh: ${refresh?.rows} rows in ${refreshMs.toFixed(0)} ms`);

  const rows: Row[] = [];
  // After first: the before server's slow pages cannot leave a backlog in Postgres behind them.
  for (const server of ['after', 'before'] as const) {
    await quiesce(sql);
    const stop = await startServer(server === 'before' ? BEFORE_DIR : process.cwd());
    try {
      const list = [...SCENARIOS];
      list.push({ name: 'top, window=all, page 2', path: await secondPage('/v1/feed?sort=top&window=all&limit=50'), baseline: 'new' });
      list.push({ name: 'hot, window=week, page 2', path: await secondPage('/v1/feed?sort=hot&window=week&limit=50'), baseline: 'new' });
      for (const scenario of list) {
        for (const connections of [CONNECTIONS, 1]) {
          await wrk(scenario.path, 2, connections); // warm-up
          await quiesce(sql);
          const m = await wrk(scenario.path, DURATION, connections);
          await quiesce(sql);
          rows.push({ server, scenario: scenario.name, connections, m });
          console.error(`[${server}] ${scenario.name} @${connections}: p50 ${fmt(m.p50)} p99 ${fmt(m.p99)} ${fmt(m.rps)} req/s${m.errors ? ` errors ${m.errors}` : ''}`);
        }
      }
    } finally {
      await stop();
    }
  }
  const plans = {
    'top, window=all': await explainRanked(sql, 'top', null, now),
    'top, window=week': await explainRanked(sql, 'top', 7 * 86_400, now),
    'hot, window=week': await explainRanked(sql, 'hot', 7 * 86_400, now),
  };
  await sql.end();
  await opened?.close();
  const loadAfter = loadavg()[0]!;

  const find = (server: string, scenario: string, connections: number) =>
    rows.find((r) => r.server === server && r.scenario === scenario && r.connections === connections)!;
  const lines: string[] = [];
  lines.push(
    `Run ${new Date().toISOString().slice(0, 16)}Z by \`npx tsx bench/ranked-feeds.ts --db ${DB_NAME}\` on this ${cpus().length}-core machine ` +
      `(Postgres, the API server and wrk share the cores; other helpers' work too: 1-minute load average ${loadBefore.toFixed(2)} at start, ` +
      `${loadAfter.toFixed(2)} at end).`,
    `Data: ${events.toLocaleString('en')} stored events, ${ranked.toLocaleString('en')} ranked posts (${week.toLocaleString('en')} in the last week), ` +
      'from `bench/generate-events.ts --count 1000000 --seed 1 --now <generation time>` loaded by `bench/read-api.ts --load-only` ' +
      '(normalizeEvent + writeBatch, so post_ranking was kept by the write path), VACUUM ANALYZE.',
    `HTTP: wrk, ${DURATION} s per row after a 2 s warm-up, \`nostr-cache serve\` with \`RESPONSE_CACHE_MB=0\` (every request reads the ` +
      'database), at 64 connections and at 1; before each row, the run waits until Postgres runs no statement of an earlier row ' +
      '(a slow page outlives the wrk run that asked for it; what still runs after 20 s is cancelled). **before**: the starting commit (ab9341b), which scores every post of the window per ' +
      'request; **after**: this branch, same database, same run. Ratio: p50 of the page ÷ p50 of `sort=new` on the same server at the ' +
      'same connections (target ≤ 2).',
    `Hot snapshot refresh (one generation of every ranked post, timed in this run): ${refresh?.rows.toLocaleString('en')} rows in ${fmt(refreshMs)} ms.`,
    '',
    '| page | server | conns | p50 ms | p99 ms | req/s | p50 ÷ new |',
    '|---|---|---|---|---|---|---|',
  );
  for (const scenario of [...SCENARIOS.map((s) => s.name), 'top, window=all, page 2', 'hot, window=week, page 2']) {
    for (const server of ['before', 'after'] as const) {
      for (const connections of [CONNECTIONS, 1]) {
        const r = find(server, scenario, connections);
        if (!r) continue;
        const base = find(server, 'new', connections);
        lines.push(
          `| ${scenario} | ${server} | ${connections} | ${fmt(r.m.p50)} | ${fmt(r.m.p99)} | ${fmt(r.m.rps)} | ${fmt(r.m.p50 / base.m.p50)} |` +
            (r.m.errors ? ` errors: ${r.m.errors}` : ''),
        );
      }
    }
  }
  lines.push('', '### EXPLAIN (ANALYZE, BUFFERS) of the ranked pages (after)', '');
  for (const [name, plan] of Object.entries(plans)) lines.push(`#### ${name}`, '', '```', plan, '```', '');
  writeResultsSection('## Ranked feeds', lines.join('\n'));
  console.error('wrote the Ranked feeds section of bench/RESULTS.md');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
