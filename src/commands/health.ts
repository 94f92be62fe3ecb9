import type { Command } from './command.js';
import { UsageError } from './command.js';

export const healthCommand: Command = {
  name: 'health',
  summary: 'ask a running daemon whether it is healthy; exit non-zero when not',
  help: `Usage: nostr-cache health [--url <base url>] [--path <path>] [--timeout <ms>]

Asks the running daemon over HTTP (default http://127.0.0.1:$PORT/health) and
prints its answer. Exit code 0 on HTTP 200, 1 otherwise (unreachable, timeout,
or not healthy). It never opens the database itself: an embedded PGlite data
directory belongs to the one daemon process that has it open. Used by the
Docker HEALTHCHECK.

Options:
  --url      base URL of the daemon (default http://127.0.0.1:$PORT)
  --path     endpoint to probe (default /health)
  --timeout  milliseconds to wait (default 5000)`,
  options: { url: { type: 'string' }, path: { type: 'string' }, timeout: { type: 'string' } },
  async run({ config, values }) {
    const base = typeof values.url === 'string' ? values.url : `http://127.0.0.1:${config.port}`;
    const path = typeof values.path === 'string' ? values.path : '/health';
    const timeout = Number(values.timeout ?? 5000);
    if (!Number.isInteger(timeout) || timeout <= 0) throw new UsageError('--timeout must be a positive integer (ms)');
    let url: URL;
    try {
      url = new URL(path, base);
    } catch {
      throw new UsageError(`not a valid URL: ${base}${path}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
      process.stdout.write(`${await response.text()}\n`);
      return response.status === 200 ? 0 : 1;
    } catch (error) {
      process.stderr.write(`nostr-cache health: ${url.href} unreachable: ${(error as Error).message}\n`);
      return 1;
    }
  },
};
