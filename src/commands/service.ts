/**
 * Runs the long-lived processes: the HTTP API, live ingest, or both, until SIGTERM/SIGINT; then
 * shuts down in order: stop reading from relays, commit what is buffered, close HTTP and the database.
 */
import { serve } from '@hono/node-server';
import { createApp } from '../api/app.js';
import { openResponseCache, type LiveResponseCache } from '../api/live-response-cache.js';
import { ROUTE_GROUPS } from '../api/routes/index.js';
import type { Config } from '../config.js';
import { startIngest, type IngestService } from '../ingest/service.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { openRuntime } from '../runtime.js';
import { startHotRefreshSchedule } from '../store/hot-refresh-schedule.js';

export interface ServiceParts {
  /** 'api': every route; 'health': only /health, /ready, /health/ingest, /metrics. */
  http: 'api' | 'health';
  ingest: boolean;
}

export async function runService(config: Config, parts: ServiceParts): Promise<number> {
  const runtime = await openRuntime(config);
  let ingest: IngestService | undefined;
  try {
    if (parts.ingest) ingest = await startIngest(runtime);
  } catch (error) {
    await runtime.close();
    throw error;
  }
  // The hot ranking's snapshot, refreshed by whichever process gets there first.
  const hotRefresh = startHotRefreshSchedule(runtime.database.db, runtime.log);
  const metrics = new MetricsRegistry();
  // Only processes serving reads cache them; the cache hears every write, this process's included.
  const responses: LiveResponseCache | undefined =
    parts.http === 'api' ? await openResponseCache({ config, database: runtime.database, log: runtime.log, metrics }) : undefined;
  const app = createApp(
    {
      config,
      database: runtime.database,
      log: runtime.log,
      metrics,
      ...(ingest ? { ingest, backfill: ingest.backfill } : {}),
      ...(responses ? { responseCache: responses.cache } : {}),
    },
    parts.http === 'api' ? ROUTE_GROUPS : [],
  );
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
  runtime.log.info({ host: config.host, port: config.port, api: parts.http === 'api', ingest: parts.ingest }, 'listening');

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  runtime.log.info({ signal }, 'shutting down');
  // A second signal during shutdown means "now".
  const force = () => process.exit(130);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  try {
    if (ingest) await ingest.stop();
  } catch (error) {
    runtime.log.error({ err: error }, 'ingest did not stop cleanly');
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await hotRefresh.stop();
  await responses?.close();
  await runtime.close();
  runtime.log.info('stopped');
  return 0;
}
