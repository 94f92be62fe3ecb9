/**
 * Feed latency of this checkout against a baseline checkout, on both engines, on data imported
 * once (issue 12): GET /v1/feed (sort new, default page, no response cache) p50 per build and
 * engine, the builds alternating in rounds so they share the machine's load. The data is used as
 * it is (import it, and ANALYZE, beforehand: `nostr-cache import` does both).
 *
 * Besides wall-clock p50, the CPU time per request: this process's (PGlite runs in it) plus, on
 * Postgres, the server backends' (from /proc). On a loaded machine the wall clock of PGlite's
 * request, one long CPU burst in a busy process, includes waits for the scheduler that the
 * Postgres path (short bursts in two processes) mostly avoids; CPU time does not depend on load.
 *
 *   npx tsx bench/feed-compare.ts --pglite-dir DIR --postgres-url URL --baseline <checkout dir>
 *     [--requests 41] [--rounds 3]
 *
 * --pglite-dir: the NOSTR_CACHE_DATA_DIR of a PGlite import (it holds pglite/); opened by one build
 * at a time. --baseline: a checkout with its own node_modules (`git worktree add`, `npm ci`).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import postgres from 'postgres';

const { values } = parseArgs({
  options: {
    'pglite-dir': { type: 'string' },
    'postgres-url': { type: 'string' },
    baseline: { type: 'string' },
    requests: { type: 'string', default: '41' },
    rounds: { type: 'string', default: '3' },
  },
});
if (!values['pglite-dir'] || !values['postgres-url'] || !values.baseline) throw new Error('--pglite-dir, --postgres-url and --baseline are required');
const requests = Number(values.requests);
const log = pino({ level: 'warn' });

interface Build {
  label: string;
  open(engine: 'pglite' | 'postgres'): Promise<{ close(): Promise<void> }>;
  app(database: unknown): { request(path: string): Promise<Response> | Response };
}

/** A checkout's own modules, so each build runs its own code (and its own PGlite settings). */
async function loadBuild(label: string, root: string): Promise<Build> {
  const from = (path: string) => import(pathToFileURL(join(root, path)).href);
  const [{ createApp }, { ROUTE_GROUPS }, { loadConfig }, { openDatabase }] = await Promise.all([
    from('src/api/app.ts'),
    from('src/api/routes/index.ts'),
    from('src/config.ts'),
    from('src/db/client.ts'),
  ]);
  return {
    label,
    open: (engine) => openDatabase(engine === 'pglite' ? { dataDir: resolve(values['pglite-dir']!) } : { url: values['postgres-url'] }),
    app: (database) => createApp({ config: loadConfig({ LOG_LEVEL: 'silent', RESPONSE_CACHE_MB: '0' }), database, log }, ROUTE_GROUPS),
  };
}

/** CPU milliseconds (user + system) used so far by the server backends of the bench database. */
async function backendCpuMs(admin: postgres.Sql): Promise<number> {
  const rows = await admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10; // USER_HZ = 100
}

async function feedTimes(build: Build, engine: 'pglite' | 'postgres'): Promise<{ times: number[]; cpuMs: number }> {
  const database = await build.open(engine);
  const admin = engine === 'postgres' ? postgres(values['postgres-url']!, { max: 1, onnotice: () => {} }) : undefined;
  try {
    const app = build.app(database);
    const times: number[] = [];
    let cpuStart = 0;
    let serverStart = 0;
    for (let i = 0; i < requests; i++) {
      if (i === 1) {
        cpuStart = process.cpuUsage().user + process.cpuUsage().system;
        serverStart = admin ? await backendCpuMs(admin) : 0;
      }
      const started = performance.now();
      const response = await app.request('/v1/feed');
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${build.label} ${engine}: feed answered ${response.status}`);
      if (i > 0) times.push(performance.now() - started); // the first request also warms caches
    }
    const usage = process.cpuUsage();
    const server = admin ? (await backendCpuMs(admin)) - serverStart : 0;
    return { times, cpuMs: (usage.user + usage.system - cpuStart) / 1000 + server };
  } finally {
    await admin?.end();
    await database.close();
  }
}

const p50 = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor((sorted.length - 1) / 2)]! * 10) / 10;
};

const builds = [await loadBuild('baseline', resolve(values.baseline)), await loadBuild('this', process.cwd())];
const samples: Record<string, number[]> = {};
const cpu: Record<string, { ms: number; n: number }> = {};
const loads: number[][] = [loadavg()];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const engine of ['postgres', 'pglite'] as const) {
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      const { times, cpuMs } = await feedTimes(build, engine);
      const key = `${build.label} ${engine}`;
      (samples[key] ??= []).push(...times);
      cpu[key] = { ms: (cpu[key]?.ms ?? 0) + cpuMs, n: (cpu[key]?.n ?? 0) + times.length };
      process.stderr.write(`round ${round + 1} ${key}: p50 ${p50(times)} ms, CPU ${(cpuMs / times.length).toFixed(1)} ms/request\n`);
    }
  }
  loads.push(loadavg());
}
const cpuPerRequest = (key: string) => Math.round((cpu[key]!.ms / cpu[key]!.n) * 100) / 100;
const result: Record<string, unknown> = Object.fromEntries(
  Object.entries(samples).map(([key, times]) => [key, { p50: p50(times), cpuMsPerRequest: cpuPerRequest(key), n: times.length }]),
);
for (const build of builds) {
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  result[`${build.label} pglite/postgres`] = {
    p50: ratio(p50(samples[`${build.label} pglite`]!), p50(samples[`${build.label} postgres`]!)),
    cpu: ratio(cpuPerRequest(`${build.label} pglite`), cpuPerRequest(`${build.label} postgres`)),
  };
}
result.load = loads.map((l) => l.map((x) => Math.round(x * 10) / 10));
console.log(JSON.stringify(result, null, 2));
