/**
 * The cache's own relay endpoint for tests: the API app and the NIP-01 WebSocket endpoint on one
 * HTTP server at 127.0.0.1 (a free port), over a test database, as `serve` runs them.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { createApp } from '../../src/api/app.js';
import { LiveEvents } from '../../src/api/relay/live-events.js';
import { attachRelayEndpoint, type RelayEndpoint } from '../../src/api/relay/server.js';
import { ROUTE_GROUPS } from '../../src/api/routes/index.js';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';

export interface CacheRelay {
  /** ws://127.0.0.1:PORT/ */
  url: string;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  endpoint: RelayEndpoint;
  live: LiveEvents;
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

export async function startCacheRelay(database: Database, env: Record<string, string> = {}): Promise<CacheRelay> {
  const config = loadConfig({ LOG_LEVEL: 'silent', RESPONSE_CACHE_MB: '0', ...env });
  const log = pino({ level: 'silent' });
  const metrics = new MetricsRegistry();
  const live = await LiveEvents.open(database, log, { retryMs: 50 });
  const app = createApp({ config, database, log, metrics, liveEvents: live }, ROUTE_GROUPS);
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server)) as Server;
  });
  const endpoint = attachRelayEndpoint(server, { database, live, limits: config.relayLimits, metrics, log });
  const { port } = server.address() as AddressInfo;
  // The Postgres channel connects in the background: live tests need it up.
  for (let i = 0; i < 400 && !live.up; i++) await new Promise((r) => setTimeout(r, 25));
  return {
    url: `ws://127.0.0.1:${port}/`,
    httpUrl: `http://127.0.0.1:${port}`,
    endpoint,
    live,
    metrics,
    async close() {
      await endpoint.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await live.close();
    },
  };
}
