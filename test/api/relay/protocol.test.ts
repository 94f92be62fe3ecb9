/**
 * The relay endpoint's protocol edges with raw frames (what no well-behaved client sends):
 * malformed messages get NOTICE, refused requests CLOSED with a NIP-01 prefix, EVENT gets
 * `OK false blocked:`, limits on subscriptions, filters, filter size, message size and connections
 * per address are enforced and counted; NIP-45 COUNT is exact; NIP-50 search is ranked; and every
 * filter shape runs on an index (EXPLAIN with sequential scans disabled shows no scan of nostr_events).
 */
import { sql } from 'drizzle-orm';
import type { Filter } from 'nostr-tools/filter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { query } from '../../../src/db/client.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { parseFilter } from '../../../src/api/relay/filter.js';
import { DEFAULT_RELAY_LIMITS } from '../../../src/nostr/relay-limits.js';
import { countForFilters, filterStatement } from '../../../src/store/queries/relay-filter.js';
import { startCacheRelay, type CacheRelay } from '../../helpers/cache-relay.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { testNormalizeOptions, until, writeEvents } from '../helpers.js';
import { req } from './req.js';
import { SUBCLAW, buildWorld, expectedAnswer, servedEvents, type World } from './world.js';

/** A raw socket that records every frame it receives. */
async function rawSocket(url: string) {
  const ws = new WebSocket(url);
  const frames: unknown[][] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as unknown[]));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waitFor = async (pred: (f: unknown[]) => boolean, what: string): Promise<unknown[]> => (await until(() => frames.find(pred), what))!;
  return { ws, frames, waitFor, send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
}

describe.each(engines)('relay protocol, limits and hostile input on %s', (driver) => {
  let database: TestDatabase;
  let relay: CacheRelay;
  let world: World;
  let served: NostrEvent[];

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    world = buildWorld();
    await writeEvents(database, world.events, await testNormalizeOptions());
    served = servedEvents(world.events);
    relay = await startCacheRelay(database, { RELAY_MAX_SUBSCRIPTIONS: '20', RELAY_MAX_CONNECTIONS_PER_ADDRESS: '8' });
  });
  afterAll(async () => {
    await relay?.close();
    await database?.destroy();
  });

  const refused = async (reason: string) => {
    const m = (await relay.metrics.render()).match(new RegExp(`nostr_cache_relay_refused_total\\{reason="${reason}"\\} (\\d+)`));
    return m ? Number(m[1]) : 0;
  };

  it('malformed frames get a NOTICE, are counted, and the connection keeps working', async () => {
    const s = await rawSocket(relay.url);
    for (const bad of ['not json', '{"an":"object"}', '[]', '[42]', '["NOPE","x"]', '["REQ"]', '["REQ", 7, {}]', '["CLOSE"]']) s.send(bad);
    await until(() => s.frames.filter((f) => f[0] === 'NOTICE').length >= 8, 'eight NOTICEs');
    expect(s.frames.every((f) => f[0] === 'NOTICE' && /^invalid: /.test(String(f[1])))).toBe(true);
    expect(await refused('bad_json')).toBeGreaterThanOrEqual(1);
    expect(await refused('bad_message')).toBeGreaterThanOrEqual(3);
    expect(await refused('unknown_type')).toBeGreaterThanOrEqual(1);
    s.send(['REQ', 'still-ok', { kinds: [30023] }]);
    await s.waitFor((f) => f[0] === 'EOSE' && f[1] === 'still-ok', 'EOSE after the garbage');
    s.ws.close();
  });

  it('bad filters are refused with CLOSED invalid: or unsupported:', async () => {
    const s = await rawSocket(relay.url);
    const cases: Array<[string, unknown, RegExp]> = [
      ['ids', { ids: ['ABC'] }, /^invalid: ids/],
      ['kinds', { kinds: ['1'] }, /^invalid: kinds/],
      ['since', { kinds: [1], since: -5 }, /^invalid: since/],
      ['tag', { '#e': [1, 2] }, /^invalid: #e/],
      ['multi', { '#tag': ['x'] }, /^unsupported: only single-letter/],
      ['scan', { since: 0, limit: 10 }, /^unsupported: a filter needs/],
      ['long', { '#t': ['x'.repeat(600)] }, /^unsupported: tag values longer/],
      ['notobj', 'str', /^invalid: a filter must be/],
    ];
    for (const [id, filter] of cases) s.send(['REQ', id, filter]);
    for (const [id, , reason] of cases) {
      const f = await s.waitFor((x) => x[0] === 'CLOSED' && x[1] === id, `CLOSED ${id}`);
      expect(f[2], id).toMatch(reason);
    }
    expect(s.frames.some((f) => f[0] === 'EOSE')).toBe(false);
    s.ws.close();
  });

  it('EVENT is refused: OK false, blocked: read-only cache', async () => {
    const s = await rawSocket(relay.url);
    s.send(['EVENT', world.events[0]]);
    const ok = await s.waitFor((f) => f[0] === 'OK', 'OK');
    expect(ok).toEqual(['OK', world.events[0]!.id, false, 'blocked: read-only cache']);
    s.ws.close();
  });

  it('too many filters, too many values, too many subscriptions: refused and counted', async () => {
    const s = await rawSocket(relay.url);
    s.send(['REQ', 'many-filters', ...Array.from({ length: 11 }, () => ({ kinds: [1] }))]);
    expect((await s.waitFor((f) => f[1] === 'many-filters', 'refusal'))[2]).toMatch(/^invalid: at most 10 filters/);
    const manyAuthors = Array.from({ length: 1001 }, (_, i) => i.toString(16).padStart(64, '0'));
    s.send(['REQ', 'huge', { authors: manyAuthors }]);
    expect((await s.waitFor((f) => f[1] === 'huge', 'refusal'))[2]).toMatch(/^invalid: a filter may hold at most 1000 values/);
    // Thousands of subscriptions: 20 are served, the rest refused with CLOSED.
    for (let i = 0; i < 2000; i++) s.send(['REQ', `sub${i}`, { kinds: [30023] }]);
    await until(() => s.frames.filter((f) => (f[0] === 'EOSE' || f[0] === 'CLOSED') && String(f[1]).startsWith('sub')).length === 2000, 'all 2000 answered', 60_000);
    const eose = s.frames.filter((f) => f[0] === 'EOSE' && String(f[1]).startsWith('sub'));
    const closed = s.frames.filter((f) => f[0] === 'CLOSED' && String(f[1]).startsWith('sub'));
    expect(eose).toHaveLength(20);
    expect(closed).toHaveLength(1980);
    expect(closed.every((f) => /^rate-limited: at most 20 open subscriptions/.test(String(f[2])))).toBe(true);
    expect(await refused('too_many_subscriptions')).toBeGreaterThanOrEqual(1980);
    // CLOSE frees a slot; a REQ with an open id replaces it (no new slot used).
    s.send(['CLOSE', 'sub0']);
    s.send(['REQ', 'sub1', { kinds: [0] }]);
    s.send(['REQ', 'fresh', { kinds: [0] }]);
    await s.waitFor((f) => f[0] === 'EOSE' && f[1] === 'fresh', 'the freed slot is used');
    s.ws.close();
  });

  it('a message over the published length gets a NOTICE; a frame over 4x closes the socket', async () => {
    const s = await rawSocket(relay.url);
    const big = JSON.stringify(['REQ', 'big', { kinds: [1], '#t': Array.from({ length: 400 }, (_, i) => `${i}:`.padEnd(400, 'x')) }]);
    expect(big.length).toBeGreaterThan(DEFAULT_RELAY_LIMITS.maxMessageBytes);
    s.send(big);
    expect((await s.waitFor((f) => f[0] === 'NOTICE', 'NOTICE'))[1]).toMatch(/^invalid: message longer than 131072 bytes/);
    const closed = new Promise<number>((resolve) => s.ws.once('close', (code) => resolve(code)));
    s.send('x'.repeat(DEFAULT_RELAY_LIMITS.maxMessageBytes * 4 + 10));
    expect(await closed).toBe(1009);
    expect(await refused('too_large')).toBeGreaterThanOrEqual(1);
  });

  it('connections per address are limited: the one beyond is refused with 429 and counted', async () => {
    await until(() => relay.endpoint.connections === 0, 'earlier tests closed their sockets');
    const open = await Promise.all(Array.from({ length: 8 }, () => rawSocket(relay.url)));
    await until(() => relay.endpoint.connections === 8, 'eight connections');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(relay.url);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    expect(status).toBe(429);
    expect(await refused('too_many_connections')).toBeGreaterThanOrEqual(1);
    for (const s of open) s.ws.close();
    await until(() => relay.endpoint.connections === 0, 'all closed');
    const again = await rawSocket(relay.url);
    again.ws.close();
  });

  it('NIP-45 COUNT is exact per request, deleted/expired/superseded excluded', async () => {
    const s = await rawSocket(relay.url);
    const cases: Array<[string, Record<string, unknown>[]]> = [
      ['c1', [{ kinds: [1111], '#I': [SUBCLAW] }]],
      ['c2', [{ authors: [world.authors[0]] }]],
      ['c3', [{ kinds: [0, 30023, 5] }]],
      ['c4', [{ kinds: [7] }, { '#e': [world.events[0]!.id] }]],
    ];
    for (const [id, filters] of cases) s.send(['COUNT', id, ...filters]);
    for (const [id, filters] of cases) {
      const f = await s.waitFor((x) => x[0] === 'COUNT' && x[1] === id, `COUNT ${id}`);
      const want = new Set(filters.flatMap((filter) => expectedAnswer(served, filter as Filter, 1_000_000))).size;
      expect(f[2], id).toEqual({ count: want });
    }
    s.send(['COUNT', 'bad', {}]);
    expect((await s.waitFor((x) => x[0] === 'CLOSED' && x[1] === 'bad', 'CLOSED'))[2]).toMatch(/^unsupported: /);
    s.ws.close();
  });

  it('NIP-50 search matches words in content, best rank first, with the other fields applied', async () => {
    const words = served.filter((e) => /lighthouse/.test(e.content));
    const answer = await req(relay.url, [{ search: 'lighthouse', limit: 100 }]);
    expect(new Set(answer.ids)).toEqual(new Set(words.map((e) => e.id)));
    // "lighthouse keepers gather" posts share more query words than "kind one note … lighthouse".
    const ranked = await req(relay.url, [{ search: 'lighthouse keepers dawn', limit: 100 }]);
    expect(ranked.events.every((e) => /keepers/.test(e.content))).toBe(true);
    const either = await req(relay.url, [{ search: 'keepers or note', kinds: [1], limit: 100 }]);
    expect(new Set(either.ids)).toEqual(new Set(served.filter((e) => e.kind === 1 && /note/.test(e.content)).map((e) => e.id)));
    const none = await req(relay.url, [{ search: 'language:en nothingmatchesthis' }]);
    expect(none.ids).toEqual([]);
    expect(await countForFilters(database.reads, [{ tags: [], search: 'lighthouse' }], Math.floor(Date.now() / 1000))).toBe(words.length);
  });

  it('every filter shape runs on an index: no sequential scan of nostr_events even when allowed none', async () => {
    const shapes: Record<string, unknown>[] = [
      { ids: [world.events[0]!.id] },
      { kinds: [1111], '#I': [SUBCLAW], limit: 50 },
      { kinds: [1111, 1], '#I': [SUBCLAW, 'x'], '#K': ['web'] },
      { authors: [world.authors[0]], limit: 50 },
      { authors: [world.authors[0]], kinds: [1111], since: 1, until: 2_000_000_000 },
      { kinds: [7], limit: 20 },
      { search: 'lighthouse', kinds: [1] },
      { '#e': [world.events[0]!.id] },
    ];
    const now = Math.floor(Date.now() / 1000);
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      for (const shape of shapes) {
        const check = parseFilter(shape, DEFAULT_RELAY_LIMITS);
        if (!check.ok) throw new Error(check.reason);
        const plan = await query<Record<string, string>>(tx, sql`EXPLAIN ${filterStatement(check.filter, now, 50)}`);
        const text = plan.map((r) => Object.values(r)[0]).join('\n');
        expect(text, JSON.stringify(shape)).not.toMatch(/Seq Scan on nostr_events/);
        expect(text, JSON.stringify(shape)).toMatch(/Index|Bitmap/);
      }
    });
  });
});
