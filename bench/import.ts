/**
 * Import throughput with full verification (issue: storage core), against the baseline in the same
 * run: nostr-tools' pure-JS `verifyEvent` plus one INSERT per event (bench/baseline-import.ts).
 * Each measurement runs in its own process, so each peak RSS is its own. nostr-cache runs once per
 * verifier backend (native libsecp256k1 when built, and WASM). `--limit N` shortens only the
 * baseline (its rate is flat over the file; at ~250 ev/s the full 100k takes ~7 minutes a target).
 *
 *   npx tsx bench/import.ts [--file bench/.data/events-100k.jsonl] [--limit N]
 *
 * Generates the file first if it is missing (bench/generate-events.ts, seed 1). Postgres at
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); each nostr-cache run gets
 * a fresh database, dropped after. Writes the "## Import" section of bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { importFile } from '../src/ingest/import-file.js';
import { IngestPipeline } from '../src/ingest/pipeline/pipeline.js';
import { createLogger } from '../src/log.js';
import { VerifyPool } from '../src/nostr/verify-pool.js';
import type { VerifyBackendName } from '../src/nostr/verify.js';
import { loadNativeSchnorr } from '../src/nostr/native-secp256k1.js';
import { normalizeOptionsFor } from '../src/runtime.js';
import { writeResultsSection } from './results.js';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Measured {
  what: string;
  target: 'postgres' | 'pglite';
  events: number;
  stored: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssMb: number;
}

/** One nostr-cache import (this process): verify pool, pipeline, batched writes. */
async function runNostrCache(file: string, target: 'postgres' | 'pglite', backend: VerifyBackendName): Promise<Measured> {
  const log = createLogger('warn');
  let url: string | undefined;
  const name = `nc_bench_import_${process.pid}`;
  if (target === 'postgres') {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    url = u.toString();
  }
  const database = await openDatabase(url ? { url } : { memory: true });
  await runMigrations(database);
  const verifier = await VerifyPool.create({ backend });
  const pipeline = new IngestPipeline({
    db: database.db,
    writeDb: database.writer,
    verifier,
    normalizeOptions: await normalizeOptionsFor({ subclawBases: ['clawstr.com'], verifyBackend: backend }),
    batchSize: 500,
    maxFutureSeconds: 900,
    maxEventBytes: 262_144,
    log,
  });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = performance.now();
  const report = await importFile({ pipeline, source: file, log });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
  await verifier.close();
  await database.close();
  if (target === 'postgres') {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
  return {
    what: `nostr-cache import (${backend} verification in workers, batches of 500, derived tables)`,
    target,
    events: report.outcomes.received,
    stored: report.outcomes.accepted,
    seconds,
    eventsPerSecond: report.outcomes.received / seconds,
    peakRssMb: peak / 2 ** 20,
  };
}

function child(args: string[]): Measured {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Measured;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { file: { type: 'string' }, limit: { type: 'string' }, child: { type: 'string' }, backend: { type: 'string' } },
  });
  const file = values.file ?? 'bench/.data/events-100k.jsonl';
  if (values.child === 'postgres' || values.child === 'pglite') {
    const backend = values.backend === 'wasm' ? 'wasm' : 'native';
    process.stdout.write(`${JSON.stringify(await runNostrCache(file, values.child, backend))}\n`);
    return;
  }
  if (!existsSync(file)) {
    execFileSync(process.execPath, [...process.execArgv, 'bench/generate-events.ts', '--count', '100000', '--seed', '1', '--out', file], {
      stdio: 'inherit',
    });
  }
  const loadBefore = loadavg()[0]!;
  // Per target: nostr-cache with each available backend, then the baseline; the table compares
  // every row with its target's baseline.
  const backends: VerifyBackendName[] = loadNativeSchnorr().ok ? ['native', 'wasm'] : ['wasm'];
  const rows: Measured[] = [];
  const baselineOf = new Map<string, Measured>();
  for (const target of ['postgres', 'pglite'] as const) {
    for (const backend of backends) rows.push(child(['--file', file, '--child', target, '--backend', backend]));
    // Baseline from bench/baseline-import.ts, in its own process too.
    const baselineArgs = ['bench/baseline-import.ts', '--file', file, '--target', target, '--json'];
    if (values.limit) baselineArgs.push('--limit', values.limit);
    const out = execFileSync(process.execPath, [...process.execArgv, ...baselineArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const b = JSON.parse(out.trim().split('\n').at(-1)!) as { events: number; rows: number; seconds: number; eventsPerSecond: number; peakRssMb: number };
    const baseline: Measured = {
      what: 'baseline: nostr-tools verifyEvent + one INSERT per event',
      target,
      events: b.events,
      stored: b.rows,
      seconds: b.seconds,
      eventsPerSecond: b.eventsPerSecond,
      peakRssMb: b.peakRssMb,
    };
    rows.push(baseline);
    baselineOf.set(target, baseline);
    for (const r of rows.filter((x) => x.target === target)) {
      console.log(`${r.target} ${r.what}: ${Math.round(r.eventsPerSecond)} ev/s, peak RSS ${Math.round(r.peakRssMb)} MB`);
    }
  }
  const loadAfter = loadavg()[0]!;
  const table = [
    '| target | method | events | stored | seconds | events/s | vs baseline | peak RSS MB |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const base = baselineOf.get(r.target)!;
      return `| ${r.target} | ${r.what} | ${r.events} | ${r.stored} | ${r.seconds.toFixed(1)} | ${Math.round(r.eventsPerSecond)} | ${(r.eventsPerSecond / base.eventsPerSecond).toFixed(1)}x | ${Math.round(r.peakRssMb)} |`;
    }),
  ].join('\n');
  writeResultsSection(
    '## Import',
    [
      `\`npx tsx bench/import.ts\`, ${new Date().toISOString().slice(0, 10)}: ${rows[0]!.events} generated clawstr-shaped events ` +
        `(\`${file}\`: posts, replies, votes, zaps, profiles, deletions; every event signed), full id + signature verification ` +
        `on both sides, each run in its own process. 1-min load average ${loadBefore.toFixed(2)} at start, ${loadAfter.toFixed(2)} at end. ` +
        'Target: >= 5,000 ev/s into Postgres. "stored" counts inserts (for nostr-cache, profile versions later replaced by a ' +
        'newer one included); nostr-cache also maintains the derived tables (stats, reactions, zaps, profiles, tombstones).' +
        (values.limit ? ` The baseline ran over the first ${values.limit} events of the same file (--limit).` : ''),
      '',
      table,
    ].join('\n'),
  );
  console.log('wrote ## Import in bench/RESULTS.md');
}

await main();
