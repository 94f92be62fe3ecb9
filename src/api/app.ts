/**
 * The HTTP API: Hono with zod-validated, OpenAPI-described routes. This file assembles middleware
 * and route groups; each group lives in routes/ and registers itself on the /v1 sub-app. Routes stay
 * thin: parse, call the store, shape the response.
 */
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Env } from 'hono';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { MaintenanceReport } from '../db/maintenance.js';
import type { RatePoint } from '../observe/rate-history.js';
import type { BackfillJob } from '../ingest/backfill-jobs.js';
import type { Logger } from '../log.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { docsAssetHandler, docsHandler } from './docs.js';
import { errorBody, handleError, validationError } from './errors.js';
import { corsFor } from './middleware/cors.js';
import { httpMetrics } from './middleware/http-metrics.js';
import { metricsHandler, registerDatabaseMetrics } from './middleware/metrics-endpoint.js';
import { requestLog } from './middleware/request-log.js';
import { noQueryParameters, strictRouter } from './strict-query.js';
import type { ResponseCache } from './response-cache.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerStatusRoutes } from './status/routes.js';

export interface AppDependencies {
  config: Config;
  database: Database;
  log: Logger;
  /** Shared with other modules (ingest counters); the app creates one when absent. */
  metrics?: MetricsRegistry;
  /** Live ingest running in this process (start, ingest); absent for serve-only. */
  ingest?: IngestStatus;
  /** Backfill jobs of the ingest process (POST /v1/backfill); absent for serve-only. */
  backfill?: BackfillJobsApi;
  /**
   * Cache of public read responses, kept exact by write notifications (live-response-cache.ts);
   * absent: every read is computed (X-Cache: BYPASS).
   */
  responseCache?: ResponseCache;
  /** PGlite's periodic ANALYZE/VACUUM (db/maintenance.ts), in the ingest process. */
  maintenance?: { report(): MaintenanceReport };
  /** Ingest rate over the last minutes (observe/rate-history.ts), for the status page. */
  rates?: { points(): RatePoint[] };
}

/** A backfill job as the API shows it: the ingest side's record, imported as a type only. */
export type BackfillJobView = BackfillJob;

/** What the API needs of backfill jobs (implemented by ingest/backfill-jobs.ts). */
export interface BackfillJobsApi {
  /** Throws with a message starting "<field>: " when the spec is invalid. */
  start(spec: { since: number; until?: number | undefined; relays?: string[] | undefined; scopes?: string[] | undefined; limit?: number | undefined }): BackfillJobView;
  get(id: string): BackfillJobView | undefined;
}

/** What the API needs of live ingest (implemented by ingest/service.ts; api/ imports only ingest types). */
export interface IngestStatus {
  report(): unknown;
  readiness(maxLagSeconds: number): Array<{ scope?: string; relay?: string; problem: string }>;
}

export type ApiApp = OpenAPIHono<Env>;

/** zod failures become the shared 400 shape, naming the field. */
export const validationHook: Hook<unknown, Env, string, unknown> = (result, c) => {
  if (!result.success) return c.json(validationError(result.error, result.target), 400);
  return undefined;
};

/** A router whose OpenAPI routes refuse unknown query parameters (strict-query.ts). */
export function createApiRouter(): ApiApp {
  return strictRouter(new OpenAPIHono({ defaultHook: validationHook }));
}

/** A route group: registers its routes on the /v1 router. */
export type RouteGroup = (router: ApiApp, deps: AppDependencies) => void;

export function createApp(deps: AppDependencies, groups: RouteGroup[] = []): ApiApp {
  const app = createApiRouter();
  app.onError(handleError(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  const metrics = deps.metrics ?? new MetricsRegistry();
  registerDatabaseMetrics(metrics, deps.database);
  app.use('*', requestLog(deps.log), httpMetrics(metrics), corsFor(deps.config.corsOrigins));
  app.get('/metrics', noQueryParameters(), metricsHandler(metrics));
  app.get('/docs', noQueryParameters(), docsHandler);
  app.get('/docs/assets/:name', noQueryParameters(), docsAssetHandler);

  registerHealthRoutes(app, deps);
  registerStatusRoutes(app, deps);

  const v1 = createApiRouter();
  for (const register of groups) register(v1, deps);
  app.route('/v1', v1);

  app.use('/openapi.json', noQueryParameters());
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'nostr-cache', version: '1', description: 'Cached Nostr feeds and threads, and the app control plane.' },
  });
  return app;
}
