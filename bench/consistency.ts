/**
 * Time to consistency (issue 11). The daemon runs as a process against one test relay
 * (@nostr-relay/core capping a REQ at 500 events with `limit` and 100 without), is killed with
 * SIGKILL, and while it is down 10,000 events arrive at the relay; it is then restarted, and the
 * seconds until every one of them is stored are measured, against the relay with NIP-77 and
 * without. A run that has not converged by --timeout reports how many were stored by then.
 *
 * Then the settle window's cost: the CPU the daemon uses per hour on an idle, complete cache
 * (process utime + stime from /proc over --idle seconds), the figure the settle window must keep
 * under 1% of one core. Until the settle window exists this measures the idle daemon itself: the
 * baseline its cost is added to.
 *
 * CLI: npx tsx bench/consistency.ts [--events 10000] [--timeout 180] [--idle 120] [--spread 40] [--write]
 * Needs Postgres at 127.0.0.1:5432 (each run creates and drops its own database).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { query } from '../src/db/client.js';
import { burst } from '../test/helpers/bursts.js';
import { ingestReport, startIngest, type DaemonProcess } from '../test/helpers/daemon-process.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/engines.js';
import { startTestRelay, type TestRelay } from '../test/helpers/relay.js';
import { writeResultsSection } from './results.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    timeout: { type: 'string', default: '180' },
    idle: { type: 'string', default: '120' },
    write: { type: 'boolean', default: false },
    spread: { type: 'string', default: '40' },
  },
});
const EVENTS = Number(values.events);
const TIMEOUT_S = Number(values.timeout);
const IDLE_S = Number(values.idle);
const SPREAD_S = Number(values.spread);
const CAPS = { withoutLimit: 100, withLimit: 500 };
const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);

async function until<T>(probe: () => Promise<T | null | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function stored(database: TestDatabase, label: string): Promise<number> {
  const rows = await query<{ n: number | string }>(database.db, sql`SELECT count(*) AS n FROM nostr_events WHERE content LIKE ${`${label} %`}`);
  return Number(rows[0]!.n);
}

interface RunResult {
  nip77: boolean;
  seconds: number | null;
  storedAtEnd: number;
  holesAtEnd: number;
  idleCpuPercent: number | null;
}

async function run(nip77: boolean): Promise<RunResult> {
  const relay: TestRelay = await startTestRelay({ caps: CAPS, ...(nip77 ? { nip77: {} } : {}) });
  const database = await createTestDatabase('postgres');
  const relays = join(mkdtempSync(join(tmpdir(), 'nc-consistency-')), 'relays.json');
  writeFileSync(relays, JSON.stringify({ primaries: [relay.url], scopes: { comments: { filter: { kinds: [1111], '#K': ['web'] } } } }));
  const env = { DATABASE_URL: database.url!, RELAYS_FILE: relays, INGEST_CLOCK_MARGIN_SECONDS: '5', VERIFY_WORKERS: '1' };
  const daemons: DaemonProcess[] = [];
  try {
    // A first life: live and covering the scope, then killed.
    const first = await startIngest(env);
    daemons.push(first);
    await until(async () => {
      const report = await ingestReport(first);
      const scope = report?.scopes.find((s) => s.scope === 'comments');
      return scope && scope.coveredUntil !== null && now() - scope.coveredUntil < 15;
    }, 'the first daemon to cover the scope', 120_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = now();

    // While it is down: the events arrive, created during the downtime (after the kill, so after
    // the coverage the first life proved: events dated inside covered time are late arrivals, the
    // settle window's case), spread over SPREAD_S seconds (a second holding a whole page of 500
    // cannot be proven by paging at all, only by NIP-77).
    const label = `consistency ${nip77 ? 'nip77' : 'paging'} ${killedAt}`;
    const events = burst(EVENTS, { until: killedAt + SPREAD_S, perSecond: Math.ceil(EVENTS / SPREAD_S), label });
    await sleep(Math.max(0, (killedAt + SPREAD_S + 1 - now()) * 1000));
    await relay.seed(events);

    const restartedAt = Date.now();
    const second = await startIngest(env);
    daemons.push(second);
    let seconds: number | null = null;
    let count = 0;
    while (Date.now() - restartedAt < TIMEOUT_S * 1000) {
      count = await stored(database, label);
      if (count >= EVENTS) {
        seconds = (Date.now() - restartedAt) / 1000;
        break;
      }
      await sleep(250);
    }
    const report = await ingestReport(second);
    const holes = Object.values(report?.scopes.find((s) => s.scope === 'comments')?.holes ?? {}).flat().length;

    // Idle: nothing arrives; the daemon's CPU per second of wall time.
    let idleCpuPercent: number | null = null;
    if (IDLE_S > 0 && second.child.pid) {
      await sleep(10_000); // let the catch-up's work settle first
      const cpu0 = cpuSeconds(second.child.pid);
      const t0 = Date.now();
      await sleep(IDLE_S * 1000);
      idleCpuPercent = ((cpuSeconds(second.child.pid) - cpu0) / ((Date.now() - t0) / 1000)) * 100;
    }
    return { nip77, seconds, storedAtEnd: count, holesAtEnd: holes, idleCpuPercent };
  } finally {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
    await Promise.all(daemons.map((d) => d.exited));
    await relay.close();
    await database.destroy();
  }
}

const results: RunResult[] = [];
for (const nip77 of [false, true]) {
  const result = await run(nip77);
  results.push(result);
  process.stderr.write(`${JSON.stringify(result)}\n`);
}

const rows = results.map(
  (r) =>
    `| ${r.nip77 ? 'with NIP-77' : 'without NIP-77'} | ${r.seconds === null ? `not within ${TIMEOUT_S} s` : `${r.seconds.toFixed(1)} s`} | ${r.storedAtEnd.toLocaleString('en-US')} of ${EVENTS.toLocaleString('en-US')} | ${r.holesAtEnd} | ${r.idleCpuPercent === null ? '-' : `${r.idleCpuPercent.toFixed(2)}%`} |`,
);
const body = [
  `Time to consistency: the daemon (a process, Postgres) is SIGKILLed; ${EVENTS.toLocaleString('en-US')} events arrive at a test relay capping at ${CAPS.withLimit} with \`limit\` and ${CAPS.withoutLimit} without, created during the downtime over ${SPREAD_S} s; seconds from the restart until all are stored (timeout ${TIMEOUT_S} s). Idle CPU: the restarted daemon over ${IDLE_S} s with nothing arriving (% of one core). \`npx tsx bench/consistency.ts\`, ${new Date().toISOString().slice(0, 10)}, at ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}.`,
  '',
  '| relay | time to consistency | stored by then | holes reported at the end | idle CPU |',
  '|---|---|---|---|---|',
  ...rows,
].join('\n');
process.stdout.write(`${body}\n`);
if (values.write) writeResultsSection('## Consistency', body);
