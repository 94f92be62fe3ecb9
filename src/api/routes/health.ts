/**
 * Health at the root (not under /v1): liveness, readiness, and the ingest report. `nostr-cache
 * health` and the Docker HEALTHCHECK probe these.
 */
import type { ApiApp, AppDependencies } from '../deps.js';
import { probeDatabase } from '../../db/health.js';
import { vectorSupport } from '../../control/vector.js';
import { noQueryParameters } from '../strict-query.js';

export function registerHealthRoutes(app: ApiApp, deps: AppDependencies): void {
  // Liveness: the process answers and the database is usable.
  app.get('/health', noQueryParameters(), async (c) => {
    const database = await probeDatabase(deps.database);
    // Which vector search the control plane runs: pgvector (HNSW index) or exact (a scan).
    const vector = database.healthy ? await vectorSupport(deps.database, deps.config.vectorDimension) : null;
    return c.json(
      { status: database.healthy ? 'ok' : 'degraded', database, vector, ingest: deps.ingest ? 'running' : 'not running in this process' },
      database.healthy ? 200 : 503,
    );
  });

  // Readiness: database reachable and migrated; when ingest runs here, every scope served by a
  // connected relay with its coverage lag under READY_MAX_LAG_SECONDS.
  app.get('/ready', noQueryParameters(), async (c) => {
    const database = await probeDatabase(deps.database);
    const problems: Array<{ scope?: string; relay?: string; problem: string }> = [];
    if (!database.healthy) problems.push({ problem: database.error ?? 'database not healthy (see /health)' });
    if (deps.ingest) problems.push(...deps.ingest.readiness(deps.config.readyMaxLagSeconds));
    const ready = problems.length === 0;
    return c.json({ ready, problems }, ready ? 200 : 503);
  });

  app.get('/health/ingest', noQueryParameters(), (c) => {
    if (!deps.ingest) return c.json({ running: false, reason: 'ingest is not running in this process (nostr-cache serve)' });
    return c.json(deps.ingest.report());
  });
}
