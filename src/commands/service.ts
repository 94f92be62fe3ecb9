/**
 * Runs the long-lived processes: the HTTP API, live ingest, or both, until SIGTERM/SIGINT; then
 * shuts down in order: stop reading from relays, commit what is buffered, close HTTP and the database.
 */
import { createApp } from '../api/app.js';
import { errorBody } from '../api/errors.js';
import { createHttpServer } from '../api/http-server.js';
import { openResponseCache, type LiveResponseCache } from '../api/live-response-cache.js';
import { LiveEvents } from '../api/relay/live-events.js';
import { attachRelayEndpoint, type RelayEndpoint } from '../api/relay/server.js';
import { ROUTE_GROUPS } from '../api/routes/index.js';
import type { Config } from '../config.js';
import { startIngest, type IngestService } from '../ingest/service.js';
import { Maintenance } from '../db/maintenance.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { IngestLogReporter } from '../observe/ingest-log.js';
import { RateHistory } from '../observe/rate-history.js';
import { openRuntime } from '../runtime.js';
import { startHotRefreshSchedule } from '../store/hot-refresh-schedule.js';

export interface ServiceParts {
  /** 'api': every route; 'health': only /health, /ready, /health/ingest, /metrics. */
  http: 'api' | 'health';
  ingest: boolean;
}

/** Answers while the port is bound but the app is not assembled yet (ingest starting). */
const starting = () =>
  new Response(JSON.stringify(errorBody('starting', 'the service is starting')), { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1' } });

export async function runService(config: Config, parts: ServiceParts): Promise<number> {
  const runtime = await openRuntime(config);
  // The port is bound before ingest starts: a port already taken ends the command with a message,
  // before anything was read from a relay.
  let fetch: (request: Request, env: object) => Response | Promise<Response> = starting;
  const http = createHttpServer((request, env) => fetch(request, env as object));
  let bound: { port: number };
  try {
    bound = await http.listen(config.host, config.port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    runtime.log.error({ host: config.host, port: config.port, code }, `cannot listen on ${config.host}:${config.port}: ${reason}`);
    process.stderr.write(`nostr-cache: cannot listen on ${config.host}:${config.port}: ${reason}\n`);
    await runtime.close();
    return 1;
  }
  let ingest: IngestService | undefined;
  try {
    if (parts.ingest) ingest = await startIngest(runtime);
  } catch (error) {
    await http.close(0);
    await runtime.close();
    throw error;
  }
  // PGlite runs no autovacuum: the ingest process keeps its statistics (db/maintenance.ts).
  const maintenance =
    ingest && runtime.database.driver === 'pglite' && config.maintenanceIntervalSeconds > 0
      ? new Maintenance({ database: runtime.database, log: runtime.log, intervalMs: config.maintenanceIntervalSeconds * 1000 })
      : undefined;
  maintenance?.start();
  // Relay failures and recoveries, and a summary a minute, read from the ingest status (observe/).
  const ingestLog = ingest ? new IngestLogReporter({ source: ingest, log: runtime.log }) : undefined;
  ingestLog?.start();
  const rates = ingest ? new RateHistory(ingest) : undefined;
  rates?.start();
  // The hot ranking's snapshot, refreshed by whichever process gets there first.
  const hotRefresh = startHotRefreshSchedule(runtime.database.db, runtime.log);
  const metrics = new MetricsRegistry();
  // Only processes serving reads cache them; the cache hears every write, this process's included.
  const responses: LiveResponseCache | undefined =
    parts.http === 'api' ? await openResponseCache({ config, database: runtime.database, log: runtime.log, metrics }) : undefined;
  // The relay endpoint and the feed's event stream follow commits from any process on the database.
  const liveEvents = parts.http === 'api' ? await LiveEvents.open(runtime.database, runtime.log) : undefined;
  const app = createApp(
    {
      config,
      database: runtime.database,
      log: runtime.log,
      metrics,
      ...(ingest ? { ingest, backfill: ingest.backfill } : {}),
      ...(responses ? { responseCache: responses.cache } : {}),
      ...(maintenance ? { maintenance } : {}),
      ...(rates ? { rates } : {}),
      ...(liveEvents ? { liveEvents } : {}),
    },
    parts.http === 'api' ? ROUTE_GROUPS : [],
  );
  fetch = app.fetch;
  const relay: RelayEndpoint | undefined = liveEvents
    ? attachRelayEndpoint(http.server, {
        database: runtime.database,
        live: liveEvents,
        limits: config.relayLimits,
        metrics,
        log: runtime.log,
        trustProxy: config.trustProxy,
      })
    : undefined;
  runtime.log.info({ host: config.host, port: bound.port, api: parts.http === 'api', ingest: parts.ingest }, 'listening');

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  runtime.log.info({ signal }, 'shutting down');
  // A second signal during shutdown means "now".
  const force = () => process.exit(130);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  ingestLog?.stop();
  rates?.stop();
  await maintenance?.stop();
  try {
    if (ingest) await ingest.stop();
  } catch (error) {
    runtime.log.error({ err: error }, 'ingest did not stop cleanly');
  }
  await relay?.close();
  // Idle connections close now; requests in flight get the grace period, then their sockets close.
  await http.close(config.shutdownGraceSeconds * 1000);
  await hotRefresh.stop();
  await liveEvents?.close();
  await responses?.close();
  await runtime.close();
  runtime.log.info('stopped');
  return 0;
}
