/**
 * Bad input: every route's malformed parameters give 400 naming the field, and a seeded fuzz pass
 * over query strings and path parameters never gives a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npubEncode } from 'nostr-tools/nip19';
import type { ApiApp } from '../../src/api/app.js';
import { communityAddress, handBuiltEvents, pubkeys, world } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { call, post, prng, testApp, testNormalizeOptions, writeEvents } from './helpers.js';

const ID = world.posts.aiTopLevel.id;
const ADDR = encodeURIComponent(communityAddress);

/** [path, the field the 400 must name]. */
const MALFORMED: Array<[string, string]> = [
  ['/v1/feed?limit=0', 'query.limit'],
  ['/v1/feed?limit=101', 'query.limit'],
  ['/v1/feed?limit=abc', 'query.limit'],
  ['/v1/feed?limit=1e2', 'query.limit'],
  ['/v1/feed?limit=1&limit=2', 'query.limit'],
  ['/v1/feed?sort=best', 'query.sort'],
  ['/v1/feed?ai=maybe', 'query.ai'],
  ['/v1/feed?since=-1', 'query.since'],
  ['/v1/feed?until=yesterday', 'query.until'],
  ['/v1/feed?window=decade', 'query.window'],
  ['/v1/feed?subclaw=a%20b', 'query.subclaw'],
  ['/v1/feed?author=alice', 'query.author'],
  ['/v1/feed?community=1:2:3', 'query.community'],
  ['/v1/feed?cursor=garbage', 'query.cursor'],
  ['/v1/feed?cursor=', 'query.cursor'],
  ['/v1/authors/alice/posts', 'param.pubkey'],
  [`/v1/authors/${pubkeys.alice}/posts?sort=old`, 'query.sort'],
  ['/v1/events/xyz', 'param.id'],
  [`/v1/events/${ID.slice(1)}`, 'param.id'],
  ['/v1/events/npub1xyz/replies', 'param.id'],
  [`/v1/events/${ID}/replies?order=up`, 'query.order'],
  [`/v1/events/${ID}/replies?cursor=eyJ9`, 'query.cursor'],
  ['/v1/events/xyz/thread', 'param.id'],
  [`/v1/events/${ID}/thread?max_depth=0`, 'query.max_depth'],
  [`/v1/events/${ID}/thread?max_depth=51`, 'query.max_depth'],
  [`/v1/events/${ID}/thread?limit=501`, 'query.limit'],
  ['/v1/events/xyz/reactions', 'param.id'],
  ['/v1/events/xyz/zaps', 'param.id'],
  [`/v1/events/${ID}/zaps?min_validity=4`, 'query.min_validity'],
  [`/v1/events/${ID}/zaps?limit=-5`, 'query.limit'],
  ['/v1/profiles/npub1bad', 'param.pubkey'],
  [`/v1/profiles/${npubEncode(pubkeys.alice).slice(0, -1)}x`, 'param.pubkey'],
  ['/v1/communities?limit=0', 'query.limit'],
  ['/v1/communities?cursor=%%%', 'query.cursor'],
  ['/v1/communities/not-an-address', 'param.address'],
  [`/v1/communities/${encodeURIComponent(`1:${pubkeys.owner}:x`)}`, 'param.address'],
  ['/v1/communities/nope/feed', 'param.address'],
  [`/v1/communities/${ADDR}/feed?approved=some`, 'query.approved'],
  [`/v1/communities/${ADDR}/feed?limit=500`, 'query.limit'],
  ['/v1/subclaws?sort=size', 'query.sort'],
  ['/v1/subclaws?limit=1001', 'query.limit'],
];

const BATCH_MALFORMED: Array<[unknown, string]> = [
  [{}, 'json.pubkeys'],
  [{ pubkeys: [] }, 'json.pubkeys'],
  [{ pubkeys: 'abc' }, 'json.pubkeys'],
  [{ pubkeys: [pubkeys.alice, 'nope'] }, 'json.pubkeys.1'],
  [{ pubkeys: Array.from({ length: 501 }, () => pubkeys.alice) }, 'json.pubkeys'],
];

const ROUTES = [
  '/v1/feed',
  `/v1/authors/${pubkeys.alice}/posts`,
  `/v1/events/${ID}`,
  `/v1/events/${ID}/replies`,
  `/v1/events/${ID}/thread`,
  `/v1/events/${ID}/reactions`,
  `/v1/events/${ID}/zaps`,
  `/v1/profiles/${pubkeys.alice}`,
  '/v1/communities',
  `/v1/communities/${ADDR}`,
  `/v1/communities/${ADDR}/feed`,
  '/v1/subclaws',
];
const KEYS = ['limit', 'cursor', 'sort', 'window', 'ai', 'since', 'until', 'subclaw', 'community', 'author', 'approved', 'order', 'max_depth', 'min_validity', 'x', '', '__proto__', 'constructor'];

function fuzzValue(r: () => number, valid: string[]): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  switch (Math.floor(r() * 10)) {
    case 0:
      return pick(valid);
    case 1:
      return String(Math.floor((r() - 0.5) * 1e12));
    case 2:
      return pick(['', ' ', '%00', '%ff', '%', '%%41', '\u0000', '😀', "'; DROP TABLE nostr_events; --", 'null', 'undefined', 'NaN', 'Infinity', '-0', '1.5', '0x10', '9'.repeat(40)]);
    case 3: {
      // A valid-looking value with one character flipped.
      const v = pick(valid);
      const at = Math.floor(r() * Math.max(1, v.length));
      return v.slice(0, at) + String.fromCharCode(33 + Math.floor(r() * 90)) + v.slice(at + 1);
    }
    case 4:
      return 'a'.repeat(Math.floor(r() * 3000));
    case 5:
      return Buffer.from(JSON.stringify({ c: Math.floor(r() * 1e10), i: 'f'.repeat(64), f: '00000000', s: String(r()), r: 1 })).toString('base64url');
    default:
      return Array.from({ length: Math.floor(r() * 20) }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join('');
  }
}

describe.each(engines)('bad input on %s', (driver) => {
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

  it.each(MALFORMED)('%s -> 400 naming %s', async (path, field) => {
    const r = await call(app, path);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('bad_request');
    expect(r.body.error.details.issues.map((i: { field: string }) => i.field)).toContain(field);
  });

  it.each(BATCH_MALFORMED.map(([body, field], i) => [i, body, field] as const))('POST /v1/profiles/batch body #%i -> 400 naming the field', async (_i, body, field) => {
    const r = await post(app, '/v1/profiles/batch', body);
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues.map((i: { field: string }) => i.field)).toContain(field);
  });

  it('POST /v1/profiles/batch with a body that is not JSON -> 400', async () => {
    const r = await call(app, '/v1/profiles/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"pubkeys": [' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('bad_request');
  });

  it('fuzzed query strings and path parameters never give a 5xx', async () => {
    const r = prng(20261124);
    const valid = ['1', '50', 'new', 'top', 'hot', 'all', 'only', 'exclude', 'day', 'asc', 'ai', '1700000000', pubkeys.alice, communityAddress, ID];
    const statuses = new Map<number, number>();
    for (const route of ROUTES) {
      for (let n = 0; n < 150; n++) {
        const pairs = Array.from({ length: Math.floor(r() * 5) }, () => {
          const key = KEYS[Math.floor(r() * KEYS.length)]!;
          const value = fuzzValue(r, valid);
          // Raw (possibly invalid) percent sequences some of the time, encoded otherwise.
          return r() < 0.3 ? `${key}=${value.replace(/[#?&\s]/g, '')}` : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
        });
        let path = route;
        if (r() < 0.15) path = path.replace(/[0-9a-f]{64}/, fuzzValue(r, valid).replace(/[/#?\s]/g, '') || 'x');
        const res = await app.request(`${path}?${pairs.join('&')}`);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) throw new Error(`${res.status} for ${path}?${pairs.join('&')}: ${await res.text()}`);
        await res.arrayBuffer();
      }
    }
    for (let n = 0; n < 150; n++) {
      const body = r() < 0.5 ? JSON.stringify({ pubkeys: Array.from({ length: Math.floor(r() * 4) }, () => fuzzValue(r, valid)) }) : fuzzValue(r, valid);
      const res = await app.request('/v1/profiles/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (res.status >= 500) throw new Error(`${res.status} for batch body ${body}: ${await res.text()}`);
      await res.arrayBuffer();
    }
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(0);
  });
});
