/**
 * Baseline import: what a plain client does without the daemon's pipeline. For every line of a
 * JSONL event file: JSON.parse, nostr-tools' pure-JS `verifyEvent`, then ONE awaited
 * `INSERT ... ON CONFLICT DO NOTHING` per event into a simple table, either in a real Postgres
 * (postgres.js, schema `bench_baseline`, dropped and recreated per run) or in an in-memory PGlite.
 *
 * CLI: npx tsx bench/baseline-import.ts --file bench/.data/events-20k.jsonl [--target postgres|pglite|both] [--limit N]
 * BENCH_DATABASE_URL overrides the Postgres URL (default postgres://postgres@127.0.0.1:5432/test).
 *
 * Peak RSS is that of this process (sampled every 50 ms and every 500 events); with `postgres`
 * the server's memory is not included, with `pglite` the database lives in this process.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { verifyEvent } from 'nostr-tools/pure';
import type { Event as NostrToolsEvent } from 'nostr-tools/pure';
import postgres from 'postgres';

export type BaselineTarget = 'postgres' | 'pglite';

export interface BaselineOptions {
  file: string;
  target: BaselineTarget;
  /** Stop after this many lines. */
  limit?: number;
  /** Postgres URL; default BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test. */
  databaseUrl?: string;
  /** Keep the bench_baseline schema after the run (Postgres only); default false. */
  keepSchema?: boolean;
}

export interface BaselineResult {
  target: BaselineTarget;
  /** Lines processed (parsed and verified), whether inserted, duplicate or rejected. */
  events: number;
  /** Events that failed verification (not inserted). */
  rejected: number;
  /** Rows in the table after the run. */
  rows: number;
  seconds: number;
  eventsPerSecond: number;
  /** CPU time of this process during the import (user + system), to read rates on a busy machine. */
  cpuSeconds: number;
  peakRssMb: number;
  startRssMb: number;
}

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'bench_baseline';

const DDL = `
  DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE;
  CREATE SCHEMA ${SCHEMA};
  CREATE TABLE ${SCHEMA}.events (
    event_id   text PRIMARY KEY,
    kind       integer NOT NULL,
    pubkey     text NOT NULL,
    created_at bigint NOT NULL,
    content    text NOT NULL,
    tags_json  jsonb NOT NULL,
    sig        text NOT NULL
  );
`;
const INSERT = `INSERT INTO ${SCHEMA}.events (event_id, kind, pubkey, created_at, content, tags_json, sig)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT (event_id) DO NOTHING`;

export interface Sink {
  insert(ev: NostrToolsEvent): Promise<void>;
  count(): Promise<number>;
  close(): Promise<void>;
}

export async function postgresSink(url: string, keepSchema: boolean): Promise<Sink> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe(DDL);
  return {
    async insert(ev) {
      await sql.unsafe(INSERT, [ev.id, ev.kind, ev.pubkey, ev.created_at, ev.content, JSON.stringify(ev.tags), ev.sig], {
        prepare: true,
      });
    },
    async count() {
      const rows = await sql.unsafe<Array<{ n: string }>>(`SELECT count(*)::text AS n FROM ${SCHEMA}.events`);
      return Number(rows[0]?.n ?? 0);
    },
    async close() {
      if (!keepSchema) await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await sql.end();
    },
  };
}

async function pgliteSink(): Promise<Sink> {
  const db = await PGlite.create();
  await db.exec(DDL);
  return {
    async insert(ev) {
      await db.query(INSERT, [ev.id, ev.kind, ev.pubkey, ev.created_at, ev.content, JSON.stringify(ev.tags), ev.sig]);
    },
    async count() {
      const res = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${SCHEMA}.events`);
      return Number(res.rows[0]?.n ?? 0);
    },
    async close() {
      await db.close();
    },
  };
}

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export async function runBaselineImport(opts: BaselineOptions): Promise<BaselineResult> {
  const limit = opts.limit ?? Infinity;
  const sink =
    opts.target === 'postgres'
      ? await postgresSink(opts.databaseUrl ?? process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL, opts.keepSchema ?? false)
      : await pgliteSink();
  const startRss = process.memoryUsage.rss();
  let peakRss = startRss;
  const sample = (): void => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
  };
  const timer = setInterval(sample, 50);
  let events = 0;
  let rejected = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const lines = createInterface({ input: createReadStream(opts.file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (events >= limit) break;
      if (line.length === 0) continue;
      events++;
      const ev = JSON.parse(line) as NostrToolsEvent;
      if (!verifyEvent(ev)) {
        rejected++;
        continue;
      }
      await sink.insert(ev);
      if (events % 500 === 0) sample();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    sample();
    const rows = await sink.count();
    return {
      target: opts.target,
      events,
      rejected,
      rows,
      seconds,
      eventsPerSecond: events / seconds,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      peakRssMb: mb(peakRss),
      startRssMb: mb(startRss),
    };
  } finally {
    clearInterval(timer);
    await sink.close();
  }
}

function parseArgs(argv: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
    else if (a === '--json' || a === '--keep-schema') args[a.slice(2)] = 'true';
    else {
      const v = argv[i + 1];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      args[a.slice(2)] = v;
      i++;
    }
  }
  return args;
}

function format(r: BaselineResult): string {
  return `baseline ${r.target}: ${r.events} events (${r.rejected} rejected, ${r.rows} rows) in ${r.seconds.toFixed(1)} s = ${Math.round(
    r.eventsPerSecond,
  )} events/s, ${r.cpuSeconds} s CPU in this process, peak RSS ${r.peakRssMb} MB (start ${r.startRssMb} MB)`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const file = args.file;
  if (!file) throw new Error('--file is required');
  const target = args.target ?? 'both';
  const limit = args.limit !== undefined ? Number(args.limit) : undefined;
  if (target === 'both') {
    // One child process per target, so each peak RSS is measured in a fresh process.
    const self = fileURLToPath(import.meta.url);
    for (const t of ['postgres', 'pglite'] as const) {
      const childArgs = [...process.execArgv, self, '--file', file, '--target', t, '--json'];
      if (limit !== undefined) childArgs.push('--limit', String(limit));
      const out = execFileSync(process.execPath, childArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      const result = JSON.parse(out.trim().split('\n').at(-1) as string) as BaselineResult;
      process.stdout.write(`${format(result)}\n`);
    }
    return;
  }
  if (target !== 'postgres' && target !== 'pglite') throw new Error('--target must be postgres, pglite or both');
  const result = await runBaselineImport({ file, target, limit, keepSchema: args['keep-schema'] === 'true' });
  process.stdout.write(args.json === 'true' ? `${JSON.stringify(result)}\n` : `${format(result)}\n`);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
