/**
 * The HTTP API. Routes stay thin: parse, call the store, shape the response. This file assembles
 * middleware and route groups; each group lives in routes/.
 */
import { Hono } from 'hono';
import type { Database } from '../db/client.js';
import { probeDatabase } from '../db/health.js';

export interface AppDependencies {
  database: Database;
}

export function createApp(deps: AppDependencies): Hono {
  const app = new Hono();
  // Liveness: the process answers. Readiness and ingest health add to this (see README).
  app.get('/health', async (c) => {
    const database = await probeDatabase(deps.database);
    return c.json({ status: database.healthy ? 'ok' : 'degraded', database }, database.healthy ? 200 : 503);
  });
  return app;
}
