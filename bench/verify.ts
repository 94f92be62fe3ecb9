/**
 * Signature verification throughput: nostr-tools' pure-JS verifyEvent (the baseline), nostr-wasm,
 * and src/nostr/verify.ts with each backend (tiny-secp256k1's WASM; the native libsecp256k1 addon
 * when built), then VerifyPool with 1 and 2 workers per backend, all in one run over the real
 * corpus repeated to ~50k events.
 *
 *   npx tsx bench/verify.ts [--events N]
 *
 * Prints events/s per method and rewrites the "## Signature verification" section of
 * bench/RESULTS.md, leaving other sections alone.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism, loadavg } from 'node:os';
import { verifyEvent as nostrToolsVerify } from 'nostr-tools/pure';
import { initNostrWasm } from 'nostr-wasm';
import { writeResultsSection } from './results.js';
import type { NostrEvent } from '../src/nostr/types.js';
import { initVerifier, verifyEventSync, type VerifyBackendName } from '../src/nostr/verify.js';
import { loadNativeSchnorr } from '../src/nostr/native-secp256k1.js';
import { VerifyPool } from '../src/nostr/verify-pool.js';

const CORPUS = fileURLToPath(new URL('../test/fixtures/corpus/real-events.jsonl', import.meta.url));
const SECTION = '## Signature verification';

const argIndex = process.argv.indexOf('--events');
const target = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 50_000;

const corpus: NostrEvent[] = readFileSync(CORPUS, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as NostrEvent);
const repeats = Math.max(1, Math.round(target / corpus.length));
const total = corpus.length * repeats;

/** Fresh shallow copies: nostr-tools caches a verdict on the event object it was given. */
function freshEvents(n = total): NostrEvent[] {
  const out: NostrEvent[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { ...corpus[i % corpus.length]! };
  return out;
}

interface Row {
  method: string;
  events: number;
  seconds: number;
  /** CPU seconds of the whole process (all threads) while this method ran. */
  cpuSeconds: number;
  perSecond: number;
  note: string;
}

type InThread = (events: NostrEvent[]) => number;

interface Method {
  name: string;
  note: string;
  run: InThread;
  /** verify.ts's backend this method needs loaded on the calling thread. */
  backend?: VerifyBackendName;
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function row(method: string, events: number, seconds: number, cpuSeconds: number, note: string): Row {
  const r = { method, events, seconds, cpuSeconds, perSecond: events / seconds, note };
  console.log(
    `${method.padEnd(40)} ${Math.round(r.perSecond).toString().padStart(7)} events/s` +
      `  (${seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s cpu)`,
  );
  return r;
}

/**
 * The in-thread methods run interleaved, one corpus copy each per round in rotating order, so
 * load from other processes on a shared machine hits them all alike instead of one by luck.
 */
async function measureInterleaved(methods: Method[]): Promise<Row[]> {
  const wall = methods.map(() => 0);
  const cpu = methods.map(() => 0);
  for (const m of methods) {
    if (m.backend) await initVerifier(m.backend);
    m.run(freshEvents(300)); // warm up JIT and WASM
  }
  for (let round = 0; round < repeats; round++) {
    for (let k = 0; k < methods.length; k++) {
      const i = (round + k) % methods.length;
      const m = methods[i]!;
      if (m.backend) await initVerifier(m.backend); // loaded once; later calls only switch
      const events = freshEvents(corpus.length);
      const c0 = cpuNow();
      const t0 = performance.now();
      const ok = m.run(events);
      wall[i]! += (performance.now() - t0) / 1000;
      cpu[i]! += cpuNow() - c0;
      if (ok !== events.length) throw new Error(`${m.name}: ${events.length - ok} valid events rejected`);
    }
  }
  return methods.map((m, i) => row(m.name, total, wall[i]!, cpu[i]!, m.note));
}

function countOk<T>(events: NostrEvent[], check: (e: NostrEvent) => T, ok: (r: T) => boolean): number {
  let n = 0;
  for (const e of events) if (ok(check(e))) n++;
  return n;
}

async function measurePool(size: number, backend: VerifyBackendName): Promise<Row> {
  const t0 = performance.now();
  const pool = await VerifyPool.create({ size, backend });
  const startupMs = performance.now() - t0;
  try {
    await pool.verify(freshEvents(300)); // warm up
    const events = freshEvents();
    const c0 = cpuNow();
    const t1 = performance.now();
    const ok = (await pool.verify(events)).filter((r) => r === 'ok').length;
    const seconds = (performance.now() - t1) / 1000;
    if (ok !== events.length) throw new Error(`pool: ${events.length - ok} valid events rejected`);
    const name = `VerifyPool (${backend}), ${size} worker${size > 1 ? 's' : ''}`;
    return row(name, events.length, seconds, cpuNow() - c0, `one verify() call, chunks of 256; startup ${Math.round(startupMs)} ms`);
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  console.log(`${total} events (${corpus.length} real events x ${repeats}), ${availableParallelism()} cores, node ${process.version}`);
  const load = loadavg()[0]!;

  const wasm = await initNostrWasm();
  const wasmOk = (e: NostrEvent): boolean => {
    try {
      wasm.verifyEvent(e);
      return true;
    } catch {
      return false;
    }
  };

  const backends: VerifyBackendName[] = loadNativeSchnorr().ok ? ['wasm', 'native'] : ['wasm'];
  const rows = await measureInterleaved([
    { name: 'nostr-tools verifyEvent (pure JS)', note: 'baseline', run: (ev) => countOk(ev, nostrToolsVerify, (r) => r) },
    { name: 'nostr-wasm verifyEvent', note: '', run: (ev) => countOk(ev, wasmOk, (r) => r) },
    ...backends.map((backend) => ({
      name: backend === 'wasm' ? 'tiny-secp256k1 (WASM) + node:crypto' : 'native libsecp256k1 addon + node:crypto',
      note: `verifyEventSync, VERIFY_BACKEND=${backend}`,
      backend,
      run: (ev: NostrEvent[]) => countOk(ev, verifyEventSync, (r) => r === 'ok'),
    })),
  ]);
  for (const backend of backends) {
    rows.push(await measurePool(1, backend));
    rows.push(await measurePool(2, backend));
  }

  writeResults(rows, load, loadavg()[0]!);
}

function writeResults(rows: Row[], loadBefore: number, loadAfter: number): void {
  const baseline = rows[0]!.perSecond;
  const table = [
    '| method | events | wall s | cpu s | events/s (wall) | events/cpu-s | vs baseline (wall) | note |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.events} | ${r.seconds.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ${Math.round(r.perSecond)} | ${Math.round(r.events / r.cpuSeconds)} | ${(r.perSecond / baseline).toFixed(1)}x | ${r.note} |`,
    ),
  ].join('\n');
  const section = [
    SECTION,
    '',
    `\`npx tsx bench/verify.ts\`, ${new Date().toISOString().slice(0, 10)}: ${rows[0]!.events} events (the real corpus ` +
      `repeated), id + signature checked, every event valid. The in-thread methods run interleaved ` +
      `(one corpus copy each per round). 1-min load average ${loadBefore.toFixed(2)} at start, ` +
      `${loadAfter.toFixed(2)} at end: on a busy machine wall rates fall, events/cpu-s holds up better ` +
      `(for the pool it counts the CPU of all threads).`,
    '',
    table,
    '',
  ].join('\n');

  writeResultsSection(SECTION, section.slice(section.indexOf('\n') + 1));
  console.log(`wrote ${SECTION} in bench/RESULTS.md`);
}

await main();
