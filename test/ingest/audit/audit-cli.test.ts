/**
 * `nostr-cache audit` as a user runs it (a separate process, real exit codes) on both engines:
 * an empty cache lacks every event of the relay (exit 1, the ids listed, a JSON form); bad
 * arguments exit 2.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScopeAudit } from '../../../src/ingest/audit/diff.js';
import { burst } from '../../helpers/bursts.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';

const root = resolve(import.meta.dirname, '../../..');

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe.each(engines)('audit command on %s', (driver) => {
  let relay: TestRelay | null = null;
  let database: TestDatabase | null = null;
  afterEach(async () => {
    await relay?.close();
    await database?.destroy();
    relay = null;
    database = null;
  });

  it('exits 1 listing what the cache lacks, 2 on bad arguments', async () => {
    relay = await startTestRelay({ caps: 'engine' });
    const now = Math.floor(Date.now() / 1000);
    const events = burst(5, { until: now - 100, label: `cli ${driver}` });
    await relay.seed(events);
    const relays = join(mkdtempSync(join(tmpdir(), 'nc-audit-')), 'relays.json');
    writeFileSync(relays, JSON.stringify({ primaries: [relay.url], scopes: { comments: { filter: { kinds: [1111], '#K': ['web'] } } } }));
    let env: Record<string, string> = { RELAYS_FILE: relays };
    if (driver === 'postgres') {
      database = await createTestDatabase('postgres');
      env = { ...env, DATABASE_URL: database.url! };
    } else env = { ...env, NOSTR_CACHE_DATA_DIR: mkdtempSync(join(tmpdir(), 'nc-audit-data-')) };

    const args = ['audit', '--relay', relay.url, '--since', String(now - 3_600), '--until', String(now)];
    const run = await cli(args, env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/comments .* by id paging \(NIP-77 support unknown\): relay 5, cache 0; missing in cache 5, not on relay 0/);
    for (const e of events) expect(run.stdout).toContain(`missing in cache: ${e.id}`);

    const json = await cli([...args, '--json'], env);
    expect(json.code).toBe(1);
    const [audit] = JSON.parse(json.stdout) as ScopeAudit[];
    expect(audit!.missingInCache.map((k) => k.id).sort()).toEqual(events.map((e) => e.id).sort());

    const bad = await cli(['audit', '--since', '1'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--relay is required/);
  }, 180_000);
});
