/**
 * Bodies are bounded per route before parsing: a declared or streamed body over the route's limit is
 * a 413 in the error shape without being read to the end, JSON nested too deep is a 400 before
 * JSON.parse, and /health keeps answering while a hostile body arrives. Runs over a real socket.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyLimitFor, jsonDepth, MAX_JSON_DEPTH } from '../../src/api/middleware/json-body.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { call, testApp } from './helpers.js';

const BATCH = '/v1/profiles/batch';

function listen(fetch: (r: Request) => Response | Promise<Response>): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve({ server, port: info.port }));
  });
}

/** Sends a chunked body, one chunk at a time from `chunks`, and returns the status and body. */
function sendChunked(port: number, path: string, chunks: Iterable<string>): Promise<{ status: number; body: any; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), sent }));
    });
    req.on('error', reject);
    const it = chunks[Symbol.iterator]();
    const pump = () => {
      for (;;) {
        const next = it.next();
        if (next.done) return void req.end();
        sent += next.value.length;
        if (!req.write(next.value)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

describe('json depth scan', () => {
  it('counts nesting outside strings only', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[["}]}', 10)).toBe(3);
    expect(jsonDepth('"\\"[["', 10)).toBe(0);
    expect(jsonDepth('['.repeat(1000), MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
  });
  it('has a limit per route', () => {
    expect(bodyLimitFor('POST', BATCH)).toBe(256 * 1024);
    expect(bodyLimitFor('POST', '/v1/knowledge')).toBeGreaterThan(6_000_000);
    expect(bodyLimitFor('POST', '/v1/organizations')).toBe(64 * 1024);
  });
});

describe.each(engines)('body limits on %s', (driver) => {
  let database: TestDatabase;
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
    const app = testApp(database);
    ({ server, port } = await listen(app.fetch));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database?.destroy();
  });

  it('a declared 10 MB body is a 413 at once', async () => {
    const body = '['.repeat(5_000_000) + ']'.repeat(5_000_000);
    const response = await fetch(`http://127.0.0.1:${port}${BATCH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(413);
    const json = (await response.json()) as any;
    expect(json.error.code).toBe('payload_too_large');
    expect(json.error.details.limit_bytes).toBe(256 * 1024);
  });

  it('a chunked body is cut at the limit, not read to the end, and /health answers meanwhile', async () => {
    // 100 MB offered in 64 kB chunks; the server answers 413 after about 256 kB.
    const chunk = '['.repeat(65_536);
    // Probes sent while the body streams in must all be answered (the parser never holds the loop).
    const probes: Promise<number>[] = [];
    const probe = setInterval(() => {
      probes.push(fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status));
    }, 5);
    const reply = await sendChunked(port, BATCH, { *[Symbol.iterator]() { for (let i = 0; i < 1600; i++) yield chunk; } });
    clearInterval(probe);
    expect(reply.status).toBe(413);
    expect((await Promise.all(probes)).every((status) => status === 200)).toBe(true);
    expect(reply.body.error.code).toBe('payload_too_large');
    expect(reply.sent).toBeLessThan(100 * 1024 * 1024);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
  });

  it('JSON nested past the depth limit is a 400 in the error shape', async () => {
    const body = JSON.stringify({ pubkeys: JSON.parse('['.repeat(40) + ']'.repeat(40)) });
    const r = await fetch(`http://127.0.0.1:${port}${BATCH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(r.status).toBe(400);
    const json = (await r.json()) as any;
    expect(json.error.message).toMatch(/nested deeper/);
  });

  it('a body that is not UTF-8 is a 400', async () => {
    const r = await fetch(`http://127.0.0.1:${port}${BATCH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array([0x7b, 0xff, 0x7d]) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error.code).toBe('bad_request');
  });

  it('a body within the limit still works', async () => {
    const r = await fetch(`http://127.0.0.1:${port}${BATCH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pubkeys: ['b'.repeat(64)] }) });
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).missing).toEqual(['b'.repeat(64)]);
  });
});

describe('through app.request', () => {
  it('keeps the 400 for malformed JSON', async () => {
    const database = await createTestDatabase('pglite');
    try {
      const r = await call(testApp(database), BATCH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"pubkeys": [' });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('bad_request');
    } finally {
      await database.destroy();
    }
  });
});
