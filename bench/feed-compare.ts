/**
 * Feed latency of this checkout against a baseline checkout, on both engines, on data imported
 * once (issue 12): GET /v1/feed (sort new, default page, no response cache) p50 per build and
 * engine, the builds alternating in rounds so they share the machine's load. The data is used as
 * it is (import it, and ANALYZE, beforehand: `nostr-cache import` does both).
 *
 *   npx tsx bench/feed-compare.ts --pglite-dir DIR --postgres-url URL --baseline <checkout dir>
 *     [--requests 41] [--rounds 3]
 *
 * --pglite-dir: the NOSTR_CACHE_DATA_DIR of a PGlite import (it holds pglite/); opened by one build
 * at a time. --baseline: a checkout with its own node_modules (`git worktree add`, `npm ci`).
 */
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';

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

async function feedTimes(build: Build, engine: 'pglite' | 'postgres'): Promise<number[]> {
  const database = await build.open(engine);
  try {
    const app = build.app(database);
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const response = await app.request('/v1/feed');
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${build.label} ${engine}: feed answered ${response.status}`);
      if (i > 0) times.push(performance.now() - started); // the first request also warms caches
    }
    return times;
  } finally {
    await database.close();
  }
}

const p50 = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor((sorted.length - 1) / 2)]! * 10) / 10;
};

const builds = [await loadBuild('baseline', resolve(values.baseline)), await loadBuild('this', process.cwd())];
const samples: Record<string, number[]> = {};
const loads: number[][] = [loadavg()];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const engine of ['postgres', 'pglite'] as const) {
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      const times = await feedTimes(build, engine);
      (samples[`${build.label} ${engine}`] ??= []).push(...times);
      process.stderr.write(`round ${round + 1} ${build.label} ${engine}: p50 ${p50(times)} ms\n`);
    }
  }
  loads.push(loadavg());
}
const result: Record<string, unknown> = Object.fromEntries(Object.entries(samples).map(([key, times]) => [key, { p50: p50(times), n: times.length }]));
for (const build of builds) {
  result[`${build.label} pglite/postgres`] = Math.round((p50(samples[`${build.label} pglite`]!) / p50(samples[`${build.label} postgres`]!)) * 100) / 100;
}
result.load = loads.map((l) => l.map((x) => Math.round(x * 10) / 10));
console.log(JSON.stringify(result, null, 2));
