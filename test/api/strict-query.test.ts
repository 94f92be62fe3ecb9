/**
 * Unknown query parameters: every route in /openapi.json (enumerated from the document, not a hand
 * list) answers 400 naming them, and the plain routes beside it (/health, /metrics, /docs, ...) do
 * too. A known parameter that belongs to another route (`approved` on /v1/feed) is unknown here.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import { createToken } from '../../src/control/tokens.js';
import { communityAddress, handBuiltEvents } from '../fixtures/hand-built.js';
import { createTestDatabase, type TestDatabase } from '../helpers/engines.js';
import { call, testApp, testNormalizeOptions, writeEvents } from './helpers.js';

interface Operation {
  method: string;
  path: string;
  parameters?: Array<{ in: string; name: string; schema?: { example?: unknown; format?: string } }>;
}

/** A concrete URL for an OpenAPI path: each {param} from its example, or a fresh uuid. */
function concretePath(op: Operation): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const spec = op.parameters?.find((p) => p.in === 'path' && p.name === name);
    const example = spec?.schema?.example;
    return encodeURIComponent(example === undefined ? randomUUID() : String(example));
  });
}

describe('unknown query parameters are refused on every route', () => {
  let database: TestDatabase;
  let app: ApiApp;
  let token: string;
  let operations: Operation[];
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    await writeEvents(database, handBuiltEvents, await testNormalizeOptions(), 100);
    app = testApp(database);
    token = (await createToken(database.db, { userId: 'strict-query' })).token;
    const doc = (await call(app, '/openapi.json')).body as { paths: Record<string, Record<string, { parameters?: Operation['parameters'] }>> };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, parameters: op.parameters })),
    );
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('every documented operation: 400 naming each unknown parameter', async () => {
    expect(operations.length).toBeGreaterThan(40);
    const failures: string[] = [];
    for (const op of operations) {
      const url = `${concretePath(op)}?zz_unknown=1&also_not_a_param=x`;
      const init: RequestInit = { method: op.method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } };
      if (op.method !== 'GET' && op.method !== 'DELETE') init.body = '{}';
      const r = await call(app, url, init);
      const message: string = r.body?.error?.message ?? '';
      const fields = (r.body?.error?.details?.issues ?? []).map((i: { field: string }) => i.field);
      if (r.status !== 400 || !message.includes('zz_unknown') || !message.includes('also_not_a_param') || !fields.includes('query.zz_unknown')) {
        failures.push(`${op.method} ${op.path}: ${r.status} ${message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a parameter of another route is unknown: approved on /v1/feed', async () => {
    const r = await call(app, `/v1/feed?community=${encodeURIComponent(communityAddress)}&approved=only`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('unknown query parameter: approved');
    expect(r.body.error.details.issues).toEqual([{ field: 'query.approved', message: 'unknown query parameter' }]);
  });

  it('known parameters still pass, and the plain routes refuse unknown ones too', async () => {
    expect((await call(app, '/v1/feed?limit=2&sort=new')).status).toBe(200);
    for (const path of ['/health', '/ready', '/health/ingest', '/metrics', '/docs', '/openapi.json']) {
      const r = await call(app, `${path}?verbose=1`);
      expect(r.status, path).toBe(400);
      expect(r.body.error.message, path).toBe('unknown query parameter: verbose');
    }
  });
});
