/**
 * A control-plane test harness: a migrated database on one engine, vector support set up for a small
 * dimension, the HTTP app (requests through app.request, no network), a logger whose lines the test
 * can read, and token minting straight through the store.
 */
import { pino } from 'pino';
import { createApp, type AppDependencies, type RouteGroup } from '../../src/api/app.js';
import { controlRoutes } from '../../src/api/routes/control/index.js';
import { loadConfig } from '../../src/config.js';
import { createToken } from '../../src/control/tokens.js';
import { ensureVectorSupport, type VectorMode } from '../../src/control/vector.js';
import type { Driver } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/engines.js';

export const DIMENSION = 3;

export interface Harness {
  database: TestDatabase;
  deps: AppDependencies;
  vectorMode: VectorMode;
  logs: string[];
  /** Sends a request; `token` becomes the bearer token; `address` the client address. */
  call(method: string, path: string, options?: { token?: string | undefined; body?: unknown; address?: string }): Promise<{ status: number; body: any }>;
  /** Mints a token for an external user id through the store. */
  mint(userId: string, options?: { admin?: boolean; expiresAt?: Date }): Promise<string>;
  close(): Promise<void>;
}

export async function createHarness(driver: Driver, env: Record<string, string> = {}, groups: RouteGroup[] = [controlRoutes]): Promise<Harness> {
  const database = await createTestDatabase(driver);
  const vectorMode = await ensureVectorSupport(database, DIMENSION);
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const config = loadConfig({ VECTOR_DIMENSION: String(DIMENSION), AUTH_FAILURE_LIMIT: '1000', ...env });
  const deps: AppDependencies = { config, database, log };
  const app = createApp(deps, groups);
  return {
    database,
    deps,
    vectorMode,
    logs,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await app.request(
        path,
        { method, headers, ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}) },
        { incoming: { socket: { remoteAddress: options.address ?? '192.0.2.1' } } },
      );
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    async mint(userId, options = {}) {
      const { token } = await createToken(database.db, { userId, admin: options.admin, expiresAt: options.expiresAt });
      return token;
    },
    close: () => database.destroy(),
  };
}
