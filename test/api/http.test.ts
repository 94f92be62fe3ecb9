/** Around the routes: ETag/304 and Cache-Control, CORS, /metrics, /openapi.json and /docs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createApp, type ApiApp } from '../../src/api/app.js';
import { ROUTE_GROUPS } from '../../src/api/routes/index.js';
import { loadConfig } from '../../src/config.js';
import { createToken } from '../../src/control/tokens.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { handBuiltEvents, world } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { call, testApp, testNormalizeOptions, writeEvents } from './helpers.js';

describe.each(engines)('HTTP concerns on %s', (driver) => {
  let database: TestDatabase;
  let app: ApiApp;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
    await writeEvents(database, handBuiltEvents, await testNormalizeOptions(), 100);
    app = testApp(database);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('reads carry an ETag and Cache-Control; If-None-Match gives 304', async () => {
    const first = await app.request('/v1/feed');
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^W\/"/);
    expect(first.headers.get('cache-control')).toBe('public, max-age=5');
    const again = await app.request('/v1/feed', { headers: { 'If-None-Match': tag! } });
    expect(again.status).toBe(304);
    const missing = await app.request(`/v1/events/${'f'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe('no-store');
  });

  it('READ_CACHE_SECONDS and READS_REQUIRE_TOKEN shape Cache-Control', async () => {
    const r = await testApp(database, { READ_CACHE_SECONDS: '30' }).request('/v1/subclaws');
    expect(r.headers.get('cache-control')).toBe('public, max-age=30');
    const off = await testApp(database, { READ_CACHE_SECONDS: '0' }).request('/v1/subclaws');
    expect(off.headers.get('cache-control')).toBe('no-cache');
  });

  it('READS_REQUIRE_TOKEN=true: reads need a bearer token (401 without), public otherwise', async () => {
    expect((await app.request('/v1/feed')).status).toBe(200);
    const locked = testApp(database, { READS_REQUIRE_TOKEN: 'true' });
    for (const path of ['/v1/feed', `/v1/events/${world.posts.aiTopLevel.id}`, '/v1/subclaws', '/v1/communities', `/v1/authors/${world.posts.aiTopLevel.pubkey}/posts`]) {
      const r = await call(locked, path);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
    }
    // Each read route runs the token check once (a failure is counted once per request).
    const logs: string[] = [];
    const counting = createApp(
      { config: loadConfig({ READS_REQUIRE_TOKEN: 'true' }), database, log: pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) }) },
      ROUTE_GROUPS,
    );
    await counting.request('/v1/communities');
    expect(logs.filter((l) => l.includes('auth failed'))).toHaveLength(1);
    const { token } = await createToken(database.db, { userId: 'reader' });
    const ok = await locked.request('/v1/feed', { headers: { Authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('private, max-age=5');
  });

  it('control-plane routes under /v1 are never marked cacheable', async () => {
    const r = await app.request('/v1/feed');
    expect(r.headers.get('cache-control')).toBe('public, max-age=5');
    const doc = (await call(app, '/openapi.json')).body;
    const mine = new Set(['/v1/feed', '/v1/subclaws', '/v1/communities']);
    const other = Object.keys(doc.paths).find((p) => !mine.has(p) && !/^\/v1\/(events|profiles|authors|communities)\//.test(p) && doc.paths[p].get);
    if (other) {
      const res = await app.request(other.replace(/\{[^}]+\}/g, 'x'));
      expect(res.headers.get('cache-control') ?? '').not.toContain('public');
    }
  });

  it('CORS: any origin by default, an exact list from CORS_ORIGINS', async () => {
    const any = await app.request('/v1/feed', { headers: { Origin: 'https://example.org' } });
    expect(any.headers.get('access-control-allow-origin')).toBe('*');
    const listed = testApp(database, { CORS_ORIGINS: 'https://clawstr.com, https://app.example' });
    const ok = await listed.request('/v1/feed', { headers: { Origin: 'https://app.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('vary')).toContain('Origin');
    expect(ok.headers.get('access-control-expose-headers')).toBe('ETag,X-Cache');
    const refused = await listed.request('/v1/feed', { headers: { Origin: 'https://evil.example' } });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await listed.request('/v1/profiles/batch', {
      method: 'OPTIONS',
      headers: { Origin: 'https://clawstr.com', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('/metrics: latency histogram by route pattern and status, DB connections, shared registry', async () => {
    const registry = new MetricsRegistry();
    const ingestCounter = registry.counter('nostr_cache_ingest_events_total', 'events stored by ingest');
    ingestCounter.inc({ relay: 'wss://r.example' }, 3);
    const local = testApp(database);
    const withRegistry = createApp({ config: loadConfig({}), database, log: pino({ level: 'silent' }), metrics: registry }, ROUTE_GROUPS);
    await withRegistry.request(`/v1/events/${world.posts.aiTopLevel.id}`);
    await withRegistry.request('/v1/nope');
    const text = await (await withRegistry.request('/metrics')).text();
    expect(text).toContain('# TYPE nostr_cache_http_request_duration_seconds histogram');
    expect(text).toMatch(/nostr_cache_http_request_duration_seconds_count\{method="GET",route="\/v1\/events\/:id",status="200"\} 1/);
    expect(text).toMatch(/route="unmatched",status="404"/);
    expect(text).toContain('nostr_cache_ingest_events_total{relay="wss://r.example"} 3');
    expect(text).toContain(`nostr_cache_db_info{driver="${driver}"} 1`);
    expect(text).toMatch(/nostr_cache_db_connections\{state="[a-z ]+"\} \d+/);
    const plain = await local.request('/metrics');
    expect(plain.headers.get('content-type')).toContain('text/plain');
  });

  it('/openapi.json documents every read route with its parameters; /docs serves the viewer', async () => {
    const doc = (await call(app, '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/v1/feed',
      '/v1/authors/{pubkey}/posts',
      '/v1/events/{id}',
      '/v1/events/{id}/replies',
      '/v1/events/{id}/thread',
      '/v1/events/{id}/reactions',
      '/v1/events/{id}/zaps',
      '/v1/profiles/{pubkey}',
      '/v1/profiles/batch',
      '/v1/communities',
      '/v1/communities/{address}',
      '/v1/communities/{address}/feed',
      '/v1/subclaws',
    ]) {
      expect(paths).toContain(p);
    }
    const feedParams = doc.paths['/v1/feed'].get.parameters.map((p: { name: string }) => p.name);
    expect(feedParams).toEqual(expect.arrayContaining(['subclaw', 'community', 'author', 'ai', 'since', 'until', 'sort', 'window', 'limit', 'cursor']));
    expect(doc.components.schemas.Post).toBeDefined();
    const docs = await app.request('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
  });
});
