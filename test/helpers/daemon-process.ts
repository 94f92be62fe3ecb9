/**
 * The daemon as a child process (`nostr-cache ingest` through tsx), for tests that kill it: its
 * HTTP port, its exit, and its /health/ingest report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { IngestReport } from '../../src/ingest/service.js';

const root = resolve(import.meta.dirname, '../..');

export interface DaemonProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  /** Its stderr (log) lines, when started with captureStderr. */
  stderr: string[];
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export async function startIngest(env: Record<string, string>, options: { captureStderr?: boolean } = {}): Promise<DaemonProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'ingest'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', options.captureStderr ? 'pipe' : 'inherit'],
  });
  const stderr: string[] = [];
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    stderr.push(...lines);
  });
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { child, port, exited, stderr };
}

/** The child's /health/ingest report, or null while it does not answer. */
export async function ingestReport(d: DaemonProcess): Promise<IngestReport | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${d.port}/health/ingest`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? ((await response.json()) as IngestReport) : null;
  } catch {
    return null;
  }
}
