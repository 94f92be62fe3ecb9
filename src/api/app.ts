/**
 * The HTTP API: Hono with zod-validated, OpenAPI-described routes. This file assembles middleware
 * and route groups; each group lives in routes/ and registers itself on the /v1 sub-app. Routes stay
 * thin: parse, call the store, shape the response.
 */
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { MetricsRegistry } from '../metrics/registry.js';
import { docsAssetHandler, docsHandler } from './docs.js';
import { errorBody, handleError, validationError } from './errors.js';
import { corsFor } from './middleware/cors.js';
import { httpMetrics } from './middleware/http-metrics.js';
import { jsonBody } from './middleware/json-body.js';
import { refuseNul } from './middleware/refuse-nul.js';
import { metricsHandler, registerDatabaseMetrics } from './middleware/metrics-endpoint.js';
import { requestLog } from './middleware/request-log.js';
import type { ApiApp, AppDependencies, RouteGroup } from './deps.js';
import { noQueryParameters, strictRouter } from './strict-query.js';
import { nip11Document } from './relay/nip11.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerStatusRoutes } from './status/routes.js';

export type { ApiApp, AppDependencies, BackfillJobsApi, BackfillJobView, IngestStatus, RouteGroup } from './deps.js';

/** zod failures become the shared 400 shape, naming the field. */
export const validationHook: Hook<unknown, Env, string, unknown> = (result, c) => {
  if (!result.success) return c.json(validationError(result.error, result.target), 400);
  return undefined;
};

/** A router whose OpenAPI routes refuse unknown query parameters (strict-query.ts). */
export function createApiRouter(): ApiApp {
  return strictRouter(new OpenAPIHono({ defaultHook: validationHook }));
}

export function createApp(deps: AppDependencies, groups: RouteGroup[] = []): ApiApp {
  const app = createApiRouter();
  app.onError(handleError(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  const metrics = deps.metrics ?? new MetricsRegistry();
  registerDatabaseMetrics(metrics, deps.database);
  app.use('*', requestLog(deps.log), httpMetrics(metrics), corsFor(deps.config.corsOrigins), refuseNul(), jsonBody());
  app.get('/metrics', noQueryParameters(), metricsHandler(metrics));
  app.get('/docs', noQueryParameters(), docsHandler);
  app.get('/docs/assets/:name', noQueryParameters(), docsAssetHandler);
  // `/` is shared: NIP-11 here for Accept: application/nostr+json, the WebSocket upgrade in
  // relay/server.ts, the status page (status/routes.ts) for browsers after it.
  app.use('/', nip11Document(deps.config.relayLimits));

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
