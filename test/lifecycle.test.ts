/**
 * The service's lifecycle as a user meets it, in child processes: `start` on a port already taken
 * exits 1 with a message before it connects to any relay; SIGTERM while a client holds a half-sent
 * request ends the process after SHUTDOWN_GRACE_SECONDS; errors from below the app (a backslash in
 * the path, headers over 16 KB) answer in the error shape.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './api/helpers.js';
import { freePort } from './helpers/daemon-process.js';
import { createTestDatabase, engines, type TestDatabase } from './helpers/engines.js';

const root = resolve(import.meta.dirname, '..');

function run(command: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', command], { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((done) => child.on('close', done));
  return { child, exited, stderr: () => stderr };
}

/** Raw bytes to the port; resolves with what came back when the server closes the socket. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let reply = '';
    socket.on('data', (d) => (reply += d));
    socket.on('error', fail);
    socket.on('close', () => done(reply));
  });
}

const bodyOf = (reply: string) => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''));

async function listening(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

describe.each(engines)('service lifecycle on %s', (driver) => {
  let database: TestDatabase | null = null;
  let env: Record<string, string>;
  beforeAll(async () => {
    if (driver === 'postgres') {
      database = await createTestDatabase('postgres');
      env = { DATABASE_URL: database.url! };
    } else {
      env = { NOSTR_CACHE_DATA_DIR: mkdtempSync(join(tmpdir(), 'nc-life-')) };
    }
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('start on a taken port exits 1 with a clear message and never connects to a relay', async () => {
    const taken: Server = createServer();
    const relayConnections: Socket[] = [];
    const relay: Server = createServer((s) => relayConnections.push(s));
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const relayPort = (relay.address() as { port: number }).port;
    const relays = join(mkdtempSync(join(tmpdir(), 'nc-relays-')), 'relays.json');
    writeFileSync(relays, JSON.stringify({ primaries: [`ws://127.0.0.1:${relayPort}`], scopes: { comments: { filter: { kinds: [1111] } } } }));
    try {
      const service = run('start', { ...env, HOST: '127.0.0.1', PORT: String(port), RELAYS_FILE: relays });
      expect(await service.exited).toBe(1);
      expect(service.stderr()).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
      expect(service.stderr()).not.toMatch(/Uncaught|EADDRINUSE.*\n\s+at /);
      expect(relayConnections).toHaveLength(0);
    } finally {
      relayConnections.forEach((s) => s.destroy());
      await new Promise((r) => taken.close(r));
      await new Promise((r) => relay.close(r));
    }
  });

  it('SIGTERM ends the process while a client holds a half-sent request; below-app errors have the shape', async () => {
    const port = await freePort();
    const service = run('serve', { ...env, HOST: '127.0.0.1', PORT: String(port), SHUTDOWN_GRACE_SECONDS: '1' });
    let stalled: Socket | undefined;
    try {
      await until(() => listening(port), 'the service answers /health', 60_000);

      const backslash = await raw(port, 'GET /v1/a\\b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(backslash).toMatch(/^HTTP\/1\.1 400/);
      expect(bodyOf(backslash).error.code).toBe('bad_request');
      const headers = await raw(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(headers).toMatch(/^HTTP\/1\.1 431/);
      expect(bodyOf(headers).error.code).toBe('headers_too_large');

      // Half a request: headers promise 100 bytes of body, 10 arrive.
      stalled = connect(port, '127.0.0.1');
      stalled.on('error', () => undefined);
      await new Promise<void>((r) => stalled!.once('connect', () => r()));
      stalled.write('POST /v1/profiles/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"pubkeys"');
      await new Promise((r) => setTimeout(r, 200));
      service.child.kill('SIGTERM');
      const code = await Promise.race([service.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 30_000))]);
      expect(code).toBe(0);
    } finally {
      stalled?.destroy();
      service.child.kill('SIGKILL');
    }
  });
});
