import { serve } from '@hono/node-server';
import { createApp } from '../api/app.js';
import { ROUTE_GROUPS } from '../api/routes/index.js';
import { openRuntime } from '../runtime.js';
import type { Command } from './command.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the daemon: migrate, then serve the HTTP API',
  help: `Usage: nostr-cache start

Opens the database (embedded PGlite in NOSTR_CACHE_DATA_DIR unless DATABASE_URL
is set), applies migrations, and serves the HTTP API on HOST:PORT until SIGTERM
or SIGINT, then shuts down cleanly.`,
  options: {},
  async run({ config }) {
    const runtime = await openRuntime(config);
    const app = createApp({ config, database: runtime.database, log: runtime.log }, ROUTE_GROUPS);
    const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
    runtime.log.info({ host: config.host, port: config.port }, 'http server listening');
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        runtime.log.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runtime.close();
    return 0;
  },
};
