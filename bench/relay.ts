/**
 * Relay endpoint benchmark: the cache's NIP-01 endpoint (`nostr-cache serve` on Postgres) against
 * @nostr-relay/core (SQLite, bench/relay-baseline-server.ts) serving the same generated events, in
 * the same run, each server in a process of its own, the client here (raw `ws`, one REQ at a time
 * per connection, REQ then wait for EOSE, then CLOSE).
 *
 * Measures: REQ latency p50/p99 on one connection for the feed-like filter (kinds [1111], #I a
 * subclaw, limit 50) and by author (limit 50); REQ/s at 64 connections (feed-like); live fan-out
 * latency with 1,000 open subscriptions (ours: from the writer's commit, and from the start of the
 * write; baseline: from publishing the EVENT); and the write-rate cost of the relay's indexes (tag
 * table + trigger + GIN search index) on a sample, with and without them. EXPLAIN ANALYZE of the two
 * filters. Writes the "## Relay endpoint" section of bench/RESULTS.md.
 *
 *   npx tsx bench/generate-events.ts --count 300000 --seed 13 --out bench/.data/relay-300k.jsonl
 *   npx tsx bench/relay.ts --file bench/.data/relay-300k.jsonl [--duration 10]
 *   (--skip-load reuses the Postgres database; with --overhead and --load-sqlite it still measures
 *   the index cost and reloads the baseline's SQLite file)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql as dsql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import postgres from 'postgres';
import { WebSocket } from 'ws';
import { parseFilter } from '../src/api/relay/filter.js';
import { DEFAULT_RELAY_LIMITS } from '../src/nostr/relay-limits.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { normalizeEvent } from '../src/nostr/normalize/index.js';
import type { NormalizeOptions, NostrEvent } from '../src/nostr/types.js';
import { normalizeOptionsFor } from '../src/runtime.js';
import { filterStatement } from '../src/store/queries/relay-filter.js';
import { writeBatch } from '../src/store/write-batch.js';
import { writeResultsSection } from './results.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const FILE = resolve(option('file', 'bench/.data/relay-300k.jsonl'));
const DURATION = Number(option('duration', '10'));
const CONNECTIONS = Number(option('connections', '64'));
const LATENCY_REQS = Number(option('latency-reqs', '400'));
const OVERHEAD_SAMPLE = Number(option('overhead-sample', '50000'));
const SKIP_LOAD = args.includes('--skip-load');
/** Only load one side and exit (`postgres` or `sqlite`): the two loads can then run side by side. */
const LOAD_ONLY = option('load-only', '');
const PORT = Number(option('port', '8813'));
const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbUrl = (name: string) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};
const DB = option('db', 'nc_bench_relay');
/** Only our side's fan-out, printed, with the server's own histogram (diagnosis; RESULTS.md untouched). */
const FANOUT_ONLY = args.includes('--fanout-only');
const SQLITE_DIR = resolve('bench/.data/relay-baseline-sqlite');

async function* readEvents(limit = Infinity): AsyncGenerator<NostrEvent> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(FILE), crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    if (n++ >= limit) return;
    yield JSON.parse(line) as NostrEvent;
  }
}

async function freshDatabase(name: string): Promise<Database> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const database = await openDatabase({ url: dbUrl(name), maxConnections: 2 });
  await runMigrations(database);
  return database;
}

/** Writes events in ingest-sized batches (500) through the one write path; returns events/s. */
async function writeAll(database: Database, options: NormalizeOptions, limit = Infinity): Promise<{ events: number; seconds: number }> {
  const started = Date.now();
  let batch: NostrEvent[] = [];
  let events = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await writeBatch(database.writer, batch.map((e) => normalizeEvent(e, options)), { normalizeOptions: options });
    events += batch.length;
    batch = [];
    if (events % 50_000 === 0) console.error(`  ${events} events, ${Math.round(events / ((Date.now() - started) / 1000))}/s`);
  };
  for await (const e of readEvents(limit)) {
    batch.push(e);
    if (batch.length >= 500) await flush();
  }
  await flush();
  return { events, seconds: (Date.now() - started) / 1000 };
}

/** Write rate of a sample with and without the relay's indexes (same run, fresh databases). */
async function indexOverhead(options: NormalizeOptions): Promise<{ with: number; without: number }> {
  const rate = async (withIndexes: boolean) => {
    const database = await freshDatabase(`${DB}_overhead`);
    if (!withIndexes) {
      await database.db.execute(dsql.raw('ALTER TABLE nostr_events DISABLE TRIGGER nostr_event_tags_fill'));
      await database.db.execute(dsql.raw('DROP INDEX nostr_events_content_search_idx'));
    }
    const r = await writeAll(database, options, OVERHEAD_SAMPLE);
    await database.close();
    return r.events / r.seconds;
  };
  const without = await rate(false);
  const withIdx = await rate(true);
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DB}_overhead WITH (FORCE)`);
  await admin.end();
  return { with: withIdx, without };
}

async function loadSqlite(): Promise<{ events: number; seconds: number }> {
  await rm(SQLITE_DIR, { recursive: true, force: true });
  await mkdir(SQLITE_DIR, { recursive: true });
  const repository = new EventRepositorySqlite(join(SQLITE_DIR, 'relay.sqlite'));
  await repository.init();
  // No fsync while loading. Each upsert runs the relay's own statements; its transaction becomes a
  // savepoint inside one transaction per 1,000 events (one commit per upsert loaded 81 ev/s on the
  // shared machine: 300k would not fit). What is stored, and so what is served, is the same.
  const db = repository.getDatabase() as { pragma(sql: string): unknown; exec(sql: string): unknown; prepare(sql: string): unknown };
  db.pragma('synchronous = OFF');
  const prepare = db.prepare.bind(db);
  const asSavepoint: Record<string, string> = { begin: 'SAVEPOINT upsert', commit: 'RELEASE upsert', rollback: 'ROLLBACK TO upsert' };
  db.prepare = (sql: string) => prepare(asSavepoint[sql] ?? sql);
  const started = Date.now();
  let events = 0;
  db.exec('BEGIN');
  for await (const e of readEvents()) {
    await repository.upsert(e as never);
    if (++events % 1000 === 0) db.exec('COMMIT; BEGIN');
    if (events % 50_000 === 0) console.error(`  sqlite ${events} events, ${Math.round(events / ((Date.now() - started) / 1000))}/s`);
  }
  db.exec('COMMIT');
  await repository.destroy();
  return { events, seconds: (Date.now() - started) / 1000 };
}

async function postgresLoadNote(options: NormalizeOptions): Promise<string> {
  const database = await freshDatabase(DB);
  const loaded = await writeAll(database, options);
  await database.close();
  const raw = postgres(dbUrl(DB), { max: 1, onnotice: () => {} });
  await raw.unsafe('VACUUM ANALYZE');
  await raw.end();
  return `${loaded.events} events in ${fmt(loaded.seconds)} s (${Math.round(loaded.events / loaded.seconds)} ev/s, batches of 500, signatures not re-verified)`;
}

async function sqliteLoadNote(): Promise<string> {
  const s = await loadSqlite();
  return `${s.events} events upserted into @nostr-relay/event-repository-sqlite in ${fmt(s.seconds)} s (${Math.round(s.events / s.seconds)} ev/s).`;
}

// ------------------------------------------------------------------------------ servers
async function startCache(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: dbUrl(DB),
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RELAY_MAX_CONNECTIONS_PER_ADDRESS: '5000',
      RELAY_MAX_SUBSCRIPTIONS: '1000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 150; i++) {
    await sleep(200);
    if (await fetch(`http://127.0.0.1:${PORT}/health`).then((r) => r.ok, () => false)) break;
  }
  return { url: `ws://127.0.0.1:${PORT}/`, stop: () => stop(child) };
}

async function startBaseline(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/relay-baseline-server.ts', SQLITE_DIR], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolvePort, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolvePort(Number(m[1]));
    });
    child.once('exit', () => reject(new Error('baseline relay exited')));
  });
  return { url: `ws://127.0.0.1:${port}`, stop: () => stop(child) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

// ------------------------------------------------------------------------------ client
/** One connection that runs one REQ at a time: sends, counts EVENTs, resolves at EOSE, CLOSEs. */
class Client {
  private seq = 0;
  private pending: { id: string; events: number; resolve: (n: number) => void } | null = null;
  /** Live events by subscription id: arrival times per event id. */
  onLive: ((subId: string, eventId: string, at: number) => void) | null = null;
  private eose = new Map<string, () => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const p = this.pending;
      if (text.startsWith('["EVENT"')) {
        if (p && text.startsWith(`["EVENT","${p.id}"`)) p.events++;
        else if (this.onLive) {
          const frame = JSON.parse(text) as [string, string, { id: string }];
          this.onLive(frame[1], frame[2].id, performance.now());
        }
      } else if (text.startsWith('["EOSE"')) {
        const id = (JSON.parse(text) as string[])[1]!;
        if (p && id === p.id) {
          this.pending = null;
          p.resolve(p.events);
        } else this.eose.get(id)?.();
      } else if (text.startsWith('["CLOSED"') || text.startsWith('["NOTICE"')) {
        throw new Error(`unexpected ${text.slice(0, 200)}`);
      }
    });
  }

  static async connect(url: string): Promise<Client> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolveOpen, reject) => {
      ws.once('open', () => resolveOpen());
      ws.once('error', reject);
    });
    return new Client(ws);
  }

  /** Stored events of one REQ (resolves at EOSE). */
  request(filter: object): Promise<number> {
    const id = `q${++this.seq}`;
    return new Promise<number>((resolveReq) => {
      this.pending = {
        id,
        events: 0,
        resolve: (n) => {
          this.ws.send(JSON.stringify(['CLOSE', id]));
          resolveReq(n);
        },
      };
      this.ws.send(JSON.stringify(['REQ', id, filter]));
    });
  }

  /** Opens a live subscription; resolves at its EOSE. */
  subscribe(id: string, filter: object): Promise<void> {
    return new Promise<void>((resolveSub) => {
      this.eose.set(id, resolveSub);
      this.ws.send(JSON.stringify(['REQ', id, filter]));
    });
  }

  close(): void {
    this.ws.close();
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const fmt = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(0)) : 'n/a');

async function latency(url: string, filters: object[]): Promise<{ p50: number; p99: number; events: number }> {
  const client = await Client.connect(url);
  for (let i = 0; i < 30; i++) await client.request(filters[i % filters.length]!);
  const times: number[] = [];
  let events = 0;
  for (let i = 0; i < LATENCY_REQS; i++) {
    const t = performance.now();
    events += await client.request(filters[i % filters.length]!);
    times.push(performance.now() - t);
  }
  client.close();
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), events: events / LATENCY_REQS };
}

async function throughput(url: string, filters: object[]): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => Client.connect(url)));
  let done = 0;
  let running = true;
  const started = performance.now();
  const loops = clients.map(async (c, k) => {
    let i = k;
    while (running) {
      await c.request(filters[i++ % filters.length]!);
      if (running) done++;
    }
  });
  await sleep(DURATION * 1000);
  running = false;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(loops);
  for (const c of clients) c.close();
  return done / seconds;
}

/**
 * 1,000 subscriptions (20 connections x 50), each on one of 10 subclaws; `rounds` rounds of one new
 * post per subclaw, each reaching 100 subscriptions. `publish` stores the round's events and
 * returns the time to measure from.
 */
async function fanout(url: string, subclaws: string[], publish: (events: NostrEvent[]) => Promise<number>): Promise<{ p50: number; p99: number; delivered: number; expected: number; stray: number }> {
  const clients = await Promise.all(Array.from({ length: 20 }, () => Client.connect(url)));
  const subclawOf = (ci: number, si: number) => subclaws[(ci * 50 + si) % 10]!;
  const arrivals = new Map<string, number[]>();
  const subclawOfEvent = new Map<string, string>();
  let stray = 0;
  let live = false;
  clients.forEach((c, ci) => {
    c.onLive = (sub, id, at) => {
      // Only new events delivered to a subscription whose filter they match are samples.
      if (!live || subclawOfEvent.get(id) !== subclawOf(ci, Number(sub.slice(4)))) {
        if (live) stray++;
        return;
      }
      (arrivals.get(id) ?? arrivals.set(id, []).get(id)!).push(at);
    };
  });
  // limit 1: no stored events to speak of (@nostr-relay/core reads `limit: 0` as no limit).
  await Promise.all(clients.flatMap((c, ci) => Array.from({ length: 50 }, (_, si) => c.subscribe(`live${si}`, { kinds: [1111], '#I': [subclawOf(ci, si)], limit: 1 }))));
  await sleep(500);
  live = true;
  const sk = generateSecretKey();
  const samples: number[] = [];
  const rounds = 20;
  let clock = Math.floor(Date.now() / 1000) - 100;
  for (let r = 0; r < rounds; r++) {
    const events = subclaws.slice(0, 10).map((url, i) =>
      finalizeEvent({ kind: 1111, created_at: ++clock, tags: [['I', url], ['K', 'web'], ['i', url], ['k', 'web']], content: `fan-out ${r} ${i}` }, sk) as NostrEvent,
    );
    events.forEach((e, i) => subclawOfEvent.set(e.id, subclaws[i]!));
    const from = await publish(events);
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline && events.some((e) => (arrivals.get(e.id)?.length ?? 0) < 100)) await sleep(5);
    for (const e of events) for (const at of arrivals.get(e.id) ?? []) samples.push(Math.max(0, at - from));
    await sleep(100);
  }
  for (const c of clients) c.close();
  samples.sort((a, b) => a - b);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), delivered: samples.length, expected: rounds * 10 * 100, stray };
}

async function explainFilter(sql: postgres.Sql, raw: object): Promise<string> {
  const check = parseFilter(raw, DEFAULT_RELAY_LIMITS);
  if (!check.ok) throw new Error(check.reason);
  const q = new PgDialect().sqlToQuery(filterStatement(check.filter, Math.floor(Date.now() / 1000), 50));
  const rows = await sql.unsafe(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${q.sql}`, q.params as never[]);
  return rows.map((r) => (r as Record<string, string>)['QUERY PLAN']).join('\n');
}

// ------------------------------------------------------------------------------ main
const options = await normalizeOptionsFor({ subclawBases: ['clawstr.com'] });
let loadNote = option('load-note', '(loaded by an earlier run: --skip-load)');
let overhead: { with: number; without: number } | null = null;
let sqliteNote = option('sqlite-note', '');
if (LOAD_ONLY === 'sqlite' || LOAD_ONLY === 'postgres') {
  console.log(LOAD_ONLY === 'sqlite' ? await sqliteLoadNote() : await postgresLoadNote(options));
  process.exit(0);
}
if (!SKIP_LOAD || args.includes('--overhead')) {
  console.error(`index overhead on ${OVERHEAD_SAMPLE} events…`);
  overhead = await indexOverhead(options);
}
if (!SKIP_LOAD) {
  console.error(`loading ${FILE} into ${DB}…`);
  loadNote = await postgresLoadNote(options);
}
if (!SKIP_LOAD || args.includes('--load-sqlite')) {
  console.error('loading the baseline SQLite…');
  sqliteNote = await sqliteLoadNote();
}

const sql = postgres(dbUrl(DB), { max: 2, onnotice: () => {} });
const [{ n: total }] = (await sql`SELECT count(*)::int AS n FROM nostr_events`) as unknown as [{ n: number }];
const subclawRows = await sql<{ value: string; n: number }[]>`
  SELECT value, count(*)::int AS n FROM nostr_event_tags WHERE name = 'I' AND kind = 1111 GROUP BY value ORDER BY n DESC LIMIT 20`;
const authorRows = await sql<{ pubkey: string }[]>`
  SELECT pubkey FROM nostr_events WHERE kind = 1111 GROUP BY pubkey ORDER BY count(*) DESC LIMIT 40`;
const subclaws = subclawRows.map((r) => r.value);
const feedFilters = subclaws.map((s) => ({ kinds: [1111], '#I': [s], limit: 50 }));
const authorFilters = authorRows.map((r) => ({ authors: [r.pubkey], limit: 50 }));
const plans = {
  feed: await explainFilter(sql, feedFilters[0]!),
  author: await explainFilter(sql, authorFilters[0]!),
};

if (FANOUT_ONLY) {
  const cache = await startCache();
  const writer = await openDatabase({ url: dbUrl(DB), maxConnections: 1 });
  const r = await fanout(cache.url, subclaws, async (events) => {
    await writeBatch(writer.writer, events.map((e) => normalizeEvent(e, options)), { normalizeOptions: options });
    return performance.now();
  });
  const metrics = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
  console.log(`fan-out from commit p50 ${fmt(r.p50)} / p99 ${fmt(r.p99)} ms, ${r.delivered}/${r.expected} (+${r.stray}), load ${loadavg()[0]!.toFixed(1)}`);
  console.log(metrics.split('\n').filter((l) => l.startsWith('nostr_cache_relay_fanout_seconds')).join('\n'));
  await writer.close();
  await cache.stop();
  await sql.end();
  process.exit(0);
}
const cache = await startCache();
const baseline = await startBaseline();
const load0 = loadavg()[0]!;
try {
  console.error('latency…');
  const feedOurs = await latency(cache.url, feedFilters);
  const feedBase = await latency(baseline.url, feedFilters);
  const authorOurs = await latency(cache.url, authorFilters);
  const authorBase = await latency(baseline.url, authorFilters);
  console.error('  latency (p50/p99 ms) feed ours/base', feedOurs, feedBase, 'author ours/base', authorOurs, authorBase);
  console.error('throughput…');
  const rpsOurs = await throughput(cache.url, feedFilters);
  const rpsBase = await throughput(baseline.url, feedFilters);
  console.error(`  REQ/s ours ${fmt(rpsOurs)} base ${fmt(rpsBase)}, load ${loadavg()[0]!.toFixed(1)}`);
  console.error('fan-out…');
  const writer = await openDatabase({ url: dbUrl(DB), maxConnections: 1 });
  let writeMs = 0;
  const fanFromCommit = await fanout(cache.url, subclaws, async (events) => {
    const t = performance.now();
    await writeBatch(writer.writer, events.map((e) => normalizeEvent(e, options)), { normalizeOptions: options });
    writeMs += performance.now() - t;
    return performance.now();
  });
  const startsAt: number[] = [];
  const fanFromWrite = await fanout(cache.url, subclaws, async (events) => {
    const t = performance.now();
    startsAt.push(t);
    await writeBatch(writer.writer, events.map((e) => normalizeEvent(e, options)), { normalizeOptions: options });
    return t;
  });
  await writer.close();
  console.error('  fan-out ours (from commit / from write)', fanFromCommit, fanFromWrite);
  const publisher = await Client.connect(baseline.url);
  const fanBase = await fanout(baseline.url, subclaws, async (events) => {
    const t = performance.now();
    for (const e of events) publisher.ws.send(JSON.stringify(['EVENT', e]));
    return t;
  });
  publisher.close();
  const load1 = loadavg()[0]!;

  const row = (name: string, ours: string, base: string) => `| ${name} | ${ours} | ${base} |`;
  const body = [
    `Run ${new Date().toISOString()}, \`${FILE.split('/').pop()}\`: ${total} stored events on Postgres 15 (\`nostr-cache serve\`),`,
    `the same file in @nostr-relay/core 0.0.40 over SQLite (bench/relay-baseline-server.ts), each server its own process, one`,
    `client process (raw \`ws\`, one REQ at a time per connection: REQ, wait for EOSE, CLOSE). Load average ${load0.toFixed(1)} at the start,`,
    `${load1.toFixed(1)} at the end, on 2 cores shared with other sessions: absolute numbers are noisy, the same-run ratio is the point.`,
    `${option('size-note', '300k events rather than 1M: generating and loading 1M did not fit on the shared machine.')}`,
    '',
    `Load: ${loadNote}. ${sqliteNote}`,
    '',
    '| measure | nostr-cache relay | @nostr-relay/core (same run) |',
    '|---|---|---|',
    row(`feed-like REQ (kinds [1111], #I top-20 subclaws, limit 50), 1 connection, p50 / p99 ms`, `${fmt(feedOurs.p50)} / ${fmt(feedOurs.p99)}`, `${fmt(feedBase.p50)} / ${fmt(feedBase.p99)}`),
    row('events per feed-like REQ (mean)', fmt(feedOurs.events), fmt(feedBase.events)),
    row(`by author (top-40 authors, limit 50), 1 connection, p50 / p99 ms`, `${fmt(authorOurs.p50)} / ${fmt(authorOurs.p99)}`, `${fmt(authorBase.p50)} / ${fmt(authorBase.p99)}`),
    row('events per author REQ (mean)', fmt(authorOurs.events), fmt(authorBase.events)),
    row(`feed-like REQ/s at ${CONNECTIONS} connections (${DURATION} s)`, fmt(rpsOurs), fmt(rpsBase)),
    row('live fan-out, 1,000 subscriptions, 20 rounds x 10 events x 100 subscribers, p50 / p99 ms', `${fmt(fanFromCommit.p50)} / ${fmt(fanFromCommit.p99)} from commit; ${fmt(fanFromWrite.p50)} / ${fmt(fanFromWrite.p99)} from the start of the write`, `${fmt(fanBase.p50)} / ${fmt(fanBase.p99)} from sending EVENT`),
    row('live deliveries received / expected (+ to subscriptions the event does not match)', `${fanFromCommit.delivered} / ${fanFromCommit.expected} (+${fanFromCommit.stray}); ${fanFromWrite.delivered} / ${fanFromWrite.expected} (+${fanFromWrite.stray})`, `${fanBase.delivered} / ${fanBase.expected} (+${fanBase.stray})`),
    '',
    `Write transaction of a 10-event batch (ours, mean): ${fmt(writeMs / 20)} ms.`,
    ...(overhead
      ? [
          '',
          `Write-rate cost of the relay's indexes (tag table + trigger + GIN search index), first ${OVERHEAD_SAMPLE} events into fresh`,
          `databases, same run: ${Math.round(overhead.without)} ev/s without, ${Math.round(overhead.with)} ev/s with (${fmt((1 - overhead.with / overhead.without) * 100)}% slower).`,
        ]
      : []),
    '',
    'Targets (issue 13): p50 <= 2 ms, >= 1,000 REQ/s at 64 connections, fan-out p99 <= 100 ms.',
    '',
    'Plans (EXPLAIN ANALYZE, BUFFERS), feed-like filter on the top subclaw:',
    '',
    '```',
    plans.feed,
    '```',
    '',
    'By author:',
    '',
    '```',
    plans.author,
    '```',
  ].join('\n');
  writeResultsSection('## Relay endpoint', body);
  console.log(body);
} finally {
  await cache.stop();
  await baseline.stop();
  await sql.end();
}
