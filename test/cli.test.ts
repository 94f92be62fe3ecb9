/**
 * The CLI as a user runs it: separate processes, real exit codes, on the embedded database (a
 * PGlite data directory) and on a real Postgres (DATABASE_URL).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusPath } from './fixtures/corpus.js';
import { freePort } from './helpers/daemon-process.js';
import { createTestDatabase, engines, type TestDatabase } from './helpers/engines.js';

const root = resolve(import.meta.dirname, '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

describe('cli basics', () => {
  it('lists the commands with --help and exits 0', async () => {
    const run = await cli(['--help'], {});
    expect(run.code).toBe(0);
    for (const name of ['start', 'serve', 'ingest', 'migrate', 'import', 'stats rebuild', 'health']) expect(run.stdout).toContain(name);
  });

  it('gives each command its own --help', async () => {
    const run = await cli(['stats', 'rebuild', '--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: nostr-cache stats rebuild');
  });

  it('rejects an unknown command, an unknown option, a missing file and bad configuration with exit 2', async () => {
    expect((await cli(['frobnicate'], {})).code).toBe(2);
    const option = await cli(['import', '--frob', 'x'], {});
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--frob'");
    const missing = await cli(['import', '/nonexistent/events.jsonl'], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    const config = await cli(['migrate'], { PORT: 'eighty' });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('PORT');
  });

  it('refuses a relay set with a bad field, naming it', async () => {
    const relays = join(mkdtempSync(join(tmpdir(), 'nc-relays-')), 'relays.json');
    writeFileSync(relays, JSON.stringify({ primaries: ['https://not-a-relay.example'], scopes: {} }));
    const run = await cli(['ingest'], { RELAYS_FILE: relays, NOSTR_CACHE_DATA_DIR: mkdtempSync(join(tmpdir(), 'nc-cli-')) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('primaries.0: must be a ws:// or wss:// URL');
  });

  it('health exits 1 when no daemon answers', async () => {
    const run = await cli(['health', '--url', `http://127.0.0.1:${await freePort()}`, '--timeout', '2000'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unreachable');
  });
});

describe.each(engines)('cli on %s', (driver) => {
  let database: TestDatabase | null = null;
  let env: Record<string, string>;

  beforeAll(async () => {
    if (driver === 'postgres') {
      database = await createTestDatabase('postgres');
      env = { DATABASE_URL: database.url! };
    } else {
      env = { NOSTR_CACHE_DATA_DIR: mkdtempSync(join(tmpdir(), 'nc-cli-')) };
    }
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('imports a file with bad lines, reports them by line number, and keeps going', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nc-cli-file-'));
    const file = join(dir, 'mixed.jsonl');
    const good = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean).slice(0, 300);
    const event = JSON.parse(good[0]!) as Record<string, unknown>;
    writeFileSync(
      file,
      [
        good[0],
        '{"truncated": ',
        JSON.stringify(['EVENT', 'sub', JSON.parse(good[1]!)]),
        JSON.stringify({ ...event, kind: 1.5 }),
        ...good.slice(2),
      ].join('\n'),
    );
    const run = await cli(['import', file, '--json'], env);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { lines: number; problems: unknown[]; outcomes: { invalid: Record<string, number> } };
    expect(report.lines).toBe(302);
    expect(report.problems).toEqual([
      { line: 2, reason: 'bad_json' },
      { line: 4, reason: 'bad_kind' },
    ]);
    expect(report.outcomes.invalid).toEqual({ bad_json: 1, bad_kind: 1 });
  });

  it('imports from standard input and reports duplicates', async () => {
    const lines = readFileSync(corpusPath, 'utf8').split('\n').filter(Boolean).slice(0, 50).join('\n');
    const run = await cli(['import', '-', '--json'], env, lines);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { outcomes: { accepted: number; duplicate: number } };
    expect(report.outcomes.accepted).toBe(0);
    expect(report.outcomes.duplicate).toBeGreaterThan(0);
  });

  it('stats rebuild reports zero drift after an import', async () => {
    const run = await cli(['stats', 'rebuild', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 0 });
  });

  it('migrate is idempotent and reports a healthy database', async () => {
    const run = await cli(['migrate'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ applied: 0, healthy: true, driver });
  });

  it('start serves /health until SIGTERM, then exits 0', async () => {
    const port = await freePort();
    // Loopback only: a relay set whose relay is a closed local port (tests never reach outside).
    const relays = join(mkdtempSync(join(tmpdir(), 'nc-relays-')), 'relays.json');
    writeFileSync(
      relays,
      JSON.stringify({ primaries: [`ws://127.0.0.1:${await freePort()}`], scopes: { comments: { filter: { kinds: [1111] } } } }),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, HOST: '127.0.0.1', PORT: String(port), RELAYS_FILE: relays },
    });
    const exited = new Promise<number | null>((done) => child.on('close', done));
    try {
      let health: Run | null = null;
      for (let i = 0; i < 60; i++) {
        health = await cli(['health', '--url', `http://127.0.0.1:${port}`, '--timeout', '2000'], {});
        if (health.code === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(health?.code).toBe(0);
      expect(JSON.parse(health!.stdout)).toMatchObject({ status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
