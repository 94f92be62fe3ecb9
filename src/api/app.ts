/**
 * The HTTP API: Hono with zod-validated, OpenAPI-described routes. This file assembles middleware
 * and route groups; each group lives in routes/ and registers itself on the /v1 sub-app. Routes stay
 * thin: parse, call the store, shape the response.
 */
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Env } from 'hono';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { probeDatabase } from '../db/health.js';
import type { Logger } from '../log.js';
import { errorBody, handleError, validationError } from './errors.js';

export interface AppDependencies {
  config: Config;
  database: Database;
  log: Logger;
}

export type ApiApp = OpenAPIHono<Env>;

/** zod failures become the shared 400 shape, naming the field. */
export const validationHook: Hook<unknown, Env, string, unknown> = (result, c) => {
  if (!result.success) return c.json(validationError(result.error, result.target), 400);
  return undefined;
};

export function createApiRouter(): ApiApp {
  return new OpenAPIHono({ defaultHook: validationHook });
}

/** A route group: registers its routes on the /v1 router. */
export type RouteGroup = (router: ApiApp, deps: AppDependencies) => void;

export function createApp(deps: AppDependencies, groups: RouteGroup[] = []): ApiApp {
  const app = createApiRouter();
  app.onError(handleError(deps.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  // Liveness: the process answers and the database is usable.
  app.get('/health', async (c) => {
    const database = await probeDatabase(deps.database);
    return c.json({ status: database.healthy ? 'ok' : 'degraded', database }, database.healthy ? 200 : 503);
  });

  const v1 = createApiRouter();
  for (const register of groups) register(v1, deps);
  app.route('/v1', v1);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'nostr-cache', version: '1', description: 'Cached Nostr feeds and threads, and the app control plane.' },
  });
  return app;
}
