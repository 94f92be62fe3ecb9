/**
 * The settle window's CPU cost on an idle, complete cache (issue 11: target <= 1% of one core).
 * The daemon runs as a process (Postgres) against one test relay holding --events posts spread
 * over the last day, follows them live from a day back (so the cache is complete), and is then
 * measured idle (process utime + stime from /proc) over --idle seconds, in the same run:
 *   - baseline: SETTLE_WINDOWS=off;
 *   - short: the last hour re-checked every --every seconds (1h/<every>s);
 *   - long: the last day re-checked every 2 × --every seconds (1d/<2·every>s).
 * Each schedule is scaled up so that an idle minute holds several passes. The CPU of one pass is
 * taken as (schedule − baseline) CPU / (idle seconds / period): a period's whole window, whatever
 * the number of re-check records it took (an upper bound when passes ran more often), and the
 * default schedule (1h/5m,1d/1h: 12 short passes and one long pass an hour) costs
 * 12 × short + 1 × long CPU seconds per hour. With NIP-77 and without (paging).
 *
 * CLI: npx tsx bench/settle-cost.ts [--events 5000] [--idle 60] [--every 10] [--write]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { burst } from '../test/helpers/bursts.js';
import { ingestReport, startIngest, type DaemonProcess } from '../test/helpers/daemon-process.js';
import { createTestDatabase } from '../test/helpers/engines.js';
import { startTestRelay } from '../test/helpers/relay.js';
import { writeResultsSection } from './results.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    idle: { type: 'string', default: '60' },
    every: { type: 'string', default: '10' },
    write: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(values.events);
const IDLE_S = Number(values.idle);
const EVERY_S = Number(values.every);
const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function until<T>(probe: () => Promise<T | null | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

interface Measure {
  schedule: string;
  cpuSeconds: number;
  wallSeconds: number;
  passes: number;
  fetched: number;
}

async function measure(nip77: boolean, schedule: string): Promise<Measure> {
  const relay = await startTestRelay(nip77 ? { nip77: {} } : {});
  const database = await createTestDatabase('postgres');
  const relays = join(mkdtempSync(join(tmpdir(), 'nc-settle-')), 'relays.json');
  writeFileSync(relays, JSON.stringify({ primaries: [relay.url], scopes: { comments: { filter: { kinds: [1111], '#K': ['web'] } } } }));
  // One burst per hour of the last day, one event a second.
  const perHour = Math.ceil(EVENTS / 24);
  for (let h = 0; h < 24; h++) await relay.seed(burst(perHour, { until: now() - 120 - h * 3600, perSecond: 1, label: `settle ${schedule} ${h}` }));
  let daemon: DaemonProcess | null = null;
  try {
    daemon = await startIngest({
      DATABASE_URL: database.url!,
      RELAYS_FILE: relays,
      VERIFY_WORKERS: '1',
      INGEST_CLOCK_MARGIN_SECONDS: '5',
      INGEST_INITIAL_LOOKBACK_SECONDS: '86400',
      SETTLE_WINDOWS: schedule,
    });
    const d = daemon;
    await until(async () => {
      const scope = (await ingestReport(d))?.scopes.find((s) => s.scope === 'comments');
      return scope && scope.coveredUntil !== null && now() - scope.coveredUntil < 15 && d.child.pid;
    }, 'the daemon to cover the day', 300_000);
    await sleep(15_000); // the catch-up's work (and a first re-check) settles first
    const before = (await ingestReport(d))?.settle.length ?? 0;
    const cpu0 = cpuSeconds(d.child.pid!);
    const t0 = Date.now();
    await sleep(IDLE_S * 1000);
    const cpu = cpuSeconds(d.child.pid!) - cpu0;
    const wall = (Date.now() - t0) / 1000;
    const settle = (await ingestReport(d))?.settle ?? [];
    const fresh = settle.slice(Math.min(before, settle.length));
    return { schedule, cpuSeconds: cpu, wallSeconds: wall, passes: fresh.length, fetched: fresh.reduce((n, c) => n + c.events, 0) };
  } finally {
    if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    await daemon?.exited;
    await relay.close();
    await database.destroy();
  }
}

const load0 = loadavg()[0]!;
const rows: string[] = [];
for (const nip77 of [true, false]) {
  const base = await measure(nip77, 'off');
  const short = await measure(nip77, `1h/${EVERY_S}s`);
  const long = await measure(nip77, `1d/${2 * EVERY_S}s`);
  process.stderr.write(`${JSON.stringify({ nip77, base, short, long })}\n`);
  const rate = (m: Measure) => m.cpuSeconds / m.wallSeconds;
  const perPass = (m: Measure, every: number) => ((rate(m) - rate(base)) * m.wallSeconds) / (m.wallSeconds / every);
  const perHour = 12 * perPass(short, EVERY_S) + 1 * perPass(long, 2 * EVERY_S);
  const cell = (m: Measure) => `${((rate(m)) * 100).toFixed(2)}% (${m.passes} re-checks, ${m.fetched} events fetched)`;
  rows.push(
    `| ${nip77 ? 'with NIP-77' : 'paging'} | ${(rate(base) * 100).toFixed(2)}% | ${cell(short)} | ${cell(long)} | ${perPass(short, EVERY_S).toFixed(3)} s | ${perPass(long, 2 * EVERY_S).toFixed(3)} s | ${perHour.toFixed(2)} s = ${((perHour / 3600) * 100).toFixed(3)}% |`,
  );
}
const body = [
  `Settle window on an idle, complete cache: a daemon process (Postgres) follows ${EVENTS.toLocaleString('en-US')} posts spread over the last day on a test relay; CPU of the process (utime + stime) over ${IDLE_S} s idle, as % of one core, with the settle window off (baseline) and on scaled schedules (last hour every ${EVERY_S} s; last day every ${2 * EVERY_S} s), each measured in the same run. Per pass = (schedule − baseline) CPU / periods elapsed (an upper bound); the default \`1h/5m,1d/1h\` runs 12 short passes and 1 long pass an hour. Load average ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (2 cores shared). \`npx tsx bench/settle-cost.ts\`, ${new Date().toISOString().slice(0, 10)}, at ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}.`,
  '',
  '| relay | idle CPU, settle off | last hour re-checked every ' + EVERY_S + ' s | last day re-checked every ' + 2 * EVERY_S + ' s | CPU per short pass | CPU per long pass | default schedule, CPU per hour (% of one core) |',
  '|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');
process.stdout.write(`${body}\n`);
if (values.write) writeResultsSection('## Settle window cost', body);
