/**
 * Real clients read the cache as a relay: nostr-tools `Relay` and `SimplePool`, and NDK, subscribe
 * with NIP-01 filters and get exactly what the rules allow, computed independently (world.ts:
 * matchFilter over the world minus deleted, expired and superseded events), in NIP-01 order.
 */
import NDK, { NDKRelaySet } from '@nostr-dev-kit/ndk';
import type { Filter } from 'nostr-tools/filter';
import { SimplePool, useWebSocketImplementation as usePoolWebSocket } from 'nostr-tools/pool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { startCacheRelay, type CacheRelay } from '../../helpers/cache-relay.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { testNormalizeOptions, writeEvents } from '../helpers.js';
import { req } from './req.js';
import { OTHER_SUBCLAW, SUBCLAW, buildWorld, expectedAnswer, servedEvents, type World } from './world.js';

usePoolWebSocket(WebSocket);
// NDK uses the global WebSocket, which Node 20 lacks.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

async function reqStored(url: string, filters: Filter[]): Promise<string[]> {
  const answer = await req(url, filters);
  if (answer.closed !== null) throw new Error(`closed: ${answer.closed}`);
  return answer.ids;
}

describe.each(engines)('the cache as a relay, read by real clients, on %s', (driver) => {
  let database: TestDatabase;
  let relay: CacheRelay;
  let world: World;
  let served: NostrEvent[];

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    world = buildWorld();
    await writeEvents(database, world.events, await testNormalizeOptions(), 13);
    served = servedEvents(world.events);
    relay = await startCacheRelay(database);
  });
  afterAll(async () => {
    await relay?.close();
    await database?.destroy();
  });

  const filters = (w: World): Array<[string, Filter[]]> => [
    ['feed-like: kinds 1111, #I subclaw, limit 50', [{ kinds: [1111], '#I': [SUBCLAW], limit: 50 }]],
    ['feed-like, small limit (ties by lowest id)', [{ kinds: [1111], '#I': [SUBCLAW], limit: 7 }]],
    ['two subclaws, #K and #k', [{ kinds: [1111], '#I': [SUBCLAW, OTHER_SUBCLAW], '#K': ['web'], '#k': ['web'] }]],
    ['by author', [{ authors: [w.authors[1]!] }]],
    ['by author and kind, with since/until', [{ authors: [w.authors[0]!, w.authors[2]!], kinds: [1111, 1], since: w.events[5]!.created_at, until: w.events[25]!.created_at }]],
    ['by id, deleted and expired included in the ask', [{ ids: [w.events[0]!.id, w.deletedPost.id, w.expired.id, w.tied[2]!.id] }]],
    ['by kind: replaceable and addressable', [{ kinds: [0, 30023] }]],
    ['deletions are served', [{ kinds: [5] }]],
    ['by #e (replies and reactions of a post)', [{ '#e': [w.events[0]!.id, w.events[1]!.id] }]],
    ['by #e and kind 7', [{ kinds: [7], '#e': [w.events[2]!.id] }]],
    ['tag AND tag', [{ '#I': [SUBCLAW], '#t': ['odd'], limit: 100 }]],
    ['several filters in one REQ', [{ kinds: [7], limit: 3 }, { kinds: [30023] }, { authors: [w.authors[2]!], kinds: [1111], limit: 4 }]],
    ['#d of an addressable event', [{ kinds: [30023], '#d': ['essay'] }]],
  ];

  it('nostr-tools Relay: each filter gets exactly the served events, newest first, ties lowest id', async () => {
    for (const [name, fs] of filters(world)) {
      const got = await reqStored(relay.url, fs);
      // Several filters: the union, newest first (each event once).
      const want = [...new Set(fs.flatMap((f) => expectedAnswer(served, f)))];
      const order = new Map(served.map((e) => [e.id, e] as const));
      want.sort((a, b) => order.get(b)!.created_at - order.get(a)!.created_at || (a < b ? -1 : 1));
      expect(got, name).toEqual(want);
    }
  });

  it('never serves deleted, expired or superseded events, and serves the deletion', async () => {
    const got = await reqStored(relay.url, [{ authors: world.authors }]);
    expect(got).not.toContain(world.deletedPost.id);
    expect(got).not.toContain(world.expired.id);
    expect(got).not.toContain(world.oldProfile.id);
    expect(got).not.toContain(world.oldArticle.id);
    expect(got).toContain(world.newProfile.id);
    expect(got).toContain(world.newArticle.id);
    expect(got).toContain(world.deletion.id);
    expect(new Set(got)).toEqual(new Set(expectedAnswer(served, { authors: world.authors })));
  });

  it('SimplePool.querySync gets the same set (it verifies every signature)', async () => {
    const pool = new SimplePool();
    try {
      const filter = { kinds: [1111], '#I': [SUBCLAW], limit: 50 };
      const events = await pool.querySync([relay.url], filter);
      expect(events.map((e) => e.id).sort()).toEqual(expectedAnswer(served, filter).sort());
      // Byte-exact events: the pool dropped none as badly signed.
      expect(events.length).toBe(expectedAnswer(served, filter).length);
    } finally {
      pool.destroy();
    }
  });

  it('NDK fetchEvents gets exactly the served events', async () => {
    const ndk = new NDK({ explicitRelayUrls: [relay.url] });
    await ndk.connect(5_000);
    try {
      const relaySet = NDKRelaySet.fromRelayUrls([relay.url], ndk);
      for (const filter of [{ kinds: [1111], '#I': [SUBCLAW], limit: 50 }, { authors: [world.authors[0]!] }, { kinds: [0, 30023] }] as Filter[]) {
        const events = await ndk.fetchEvents(filter as never, { closeOnEose: true, groupable: false }, relaySet);
        expect([...events].map((e) => e.id).sort(), JSON.stringify(filter)).toEqual(expectedAnswer(served, filter).sort());
      }
    } finally {
      for (const r of ndk.pool.relays.values()) r.disconnect();
    }
  });

  it('NIP-11 at / for Accept: application/nostr+json', async () => {
    const res = await fetch(relay.httpUrl + '/', { headers: { accept: 'application/nostr+json' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/nostr+json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await res.json()) as { supported_nips: number[]; limitation: Record<string, number> };
    expect(doc.supported_nips).toEqual(expect.arrayContaining([1, 9, 11, 40, 45, 50]));
    expect(doc.limitation).toMatchObject({ max_subscriptions: 100, max_filters: 10, max_limit: 500, max_message_length: 131_072 });
  });
});
