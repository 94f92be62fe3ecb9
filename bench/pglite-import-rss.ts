/**
 * Peak RSS of `nostr-cache import` into a new PGlite data directory (issue 12: ≤ 512 MB for 300k
 * events), this checkout against a baseline checkout, in the same run and at the same time (both
 * imports run concurrently, so they share the machine's load). Each import runs as the CLI does
 * (through tsx); the parent reads each process's VmHWM (kernel high-water mark of its RSS) from
 * /proc every second, for the importing process and, separately, for a data-directory init child.
 *
 *   npx tsx bench/pglite-import-rss.ts --baseline <dir of the baseline checkout> [--file bench/.data/events-300k.jsonl]
 *
 * A baseline checkout: `git archive <commit> | tar -x -C <dir>` and a `node_modules` symlink.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { baseline: { type: 'string' }, file: { type: 'string', default: 'bench/.data/events-300k.jsonl' } } });
if (!values.baseline) throw new Error('--baseline <checkout dir> is required');
const file = resolve(values.file!);

/** VmHWM (MB) of `pid` and of each of its direct children, by pid; gone processes are skipped. */
function highWater(pid: number): Map<number, number> {
  const found = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const parent = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      if (Number(entry) !== pid && parent !== pid) continue;
      found.set(Number(entry), Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function measure(label: string, cwd: string): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), `nc-rss-${label}-`));
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'import', '--json', file], {
    cwd,
    env: { ...process.env, NOSTR_CACHE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  const peaks = new Map<number, number>();
  const poll = setInterval(() => {
    for (const [pid, mb] of highWater(child.pid!)) peaks.set(pid, Math.max(mb, peaks.get(pid) ?? 0));
  }, 1000);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearInterval(poll);
  rmSync(dataDir, { recursive: true, force: true });
  const report = JSON.parse(stdout) as { outcomes: { accepted: number } };
  const importer = peaks.get(child.pid!) ?? 0;
  const children = [...peaks.entries()].filter(([pid]) => pid !== child.pid).map(([, mb]) => mb);
  const init = children.length > 0 ? Math.max(...children) : 0;
  return { label, code, accepted: report.outcomes.accepted, seconds: Math.round((performance.now() - started) / 1000), importPeakRssMb: importer, initChildPeakRssMb: init || null };
}

const results = await Promise.all([measure('baseline', resolve(values.baseline)), measure('this', process.cwd())]);
console.log(JSON.stringify(results, null, 2));
