/**
 * Keyset pagination is complete and never repeats: 150 posts sharing three created_at values, with
 * votes that make many scores equal, paged 7 at a time under new, top and hot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { T0, sign } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { allPages, call, testApp, testNormalizeOptions, writeEvents } from './helpers.js';

const URL = 'https://clawstr.com/c/paging';
const POSTS: NostrEvent[] = Array.from({ length: 150 }, (_, i) =>
  sign(i % 2 === 0 ? 'agent' : 'alice', {
    kind: 1111,
    created_at: T0 + 10_000 + (i % 3),
    tags: [['I', URL], ['K', 'web'], ['i', URL], ['k', 'web']],
    content: `post ${i}`,
  }),
);
function vote(actor: 'bob' | 'carol' | 'zapper', target: NostrEvent, content: string, at: number): NostrEvent {
  return sign(actor, { kind: 7, created_at: at, tags: [['e', target.id], ['p', target.pubkey]], content });
}
const VOTES: NostrEvent[] = POSTS.flatMap((p, i) => [
  ...(i % 5 === 0 ? [vote('bob', p, '+', T0 + 20_000)] : []),
  ...(i % 7 === 0 ? [vote('carol', p, '+', T0 + 20_001)] : []),
  ...(i % 11 === 0 ? [vote('zapper', p, '-', T0 + 20_002)] : []),
]);
const scoreOf = (i: number) => (i % 5 === 0 ? 1 : 0) + (i % 7 === 0 ? 1 : 0) - (i % 11 === 0 ? 1 : 0);

const desc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);
const expectedNew = POSTS.map((p) => p)
  .sort((a, b) => b.created_at - a.created_at || desc(a.id, b.id))
  .map((p) => p.id);
const expectedTop = POSTS.map((p, i) => ({ p, s: scoreOf(i) }))
  .sort((a, b) => b.s - a.s || b.p.created_at - a.p.created_at || desc(a.p.id, b.p.id))
  .map((x) => x.p.id);

describe.each(engines)('pagination on %s', (driver) => {
  let database: TestDatabase;
  let app: ApiApp;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
    await writeEvents(database, [...POSTS, ...VOTES], await testNormalizeOptions(), 100);
    app = testApp(database);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('sort=new: every post exactly once, in (created_at, id) descending order', async () => {
    const items = await allPages(app, '/v1/feed?subclaw=paging&limit=7');
    expect(items.map((p) => p.id)).toEqual(expectedNew);
  });

  it('sort=top: every post exactly once, by (score, created_at, id) descending', async () => {
    const items = await allPages(app, '/v1/feed?subclaw=paging&sort=top&window=all&limit=7');
    expect(items.map((p) => p.id)).toEqual(expectedTop);
    expect(items.map((p) => p.stats.score)).toEqual([...items.map((p) => p.stats.score)].sort((a, b) => b - a));
  });

  it('sort=hot: every post exactly once, hot scores non-increasing', async () => {
    const items = await allPages(app, '/v1/feed?subclaw=paging&sort=hot&window=all&limit=7');
    expect(items).toHaveLength(POSTS.length);
    expect(new Set(items.map((p) => p.id)).size).toBe(POSTS.length);
    for (let i = 1; i < items.length; i++) expect(items[i].hot).toBeLessThanOrEqual(items[i - 1].hot);
  });

  it('author and ai filters page completely too', async () => {
    const agent = await allPages(app, `/v1/authors/${POSTS[0]!.pubkey}/posts?limit=4`);
    expect(agent.map((p) => p.id)).toEqual(expectedNew.filter((id) => POSTS.find((p) => p.id === id)!.pubkey === POSTS[0]!.pubkey));
  });

  it('a cursor only works with the filters it came from', async () => {
    const first = await call(app, '/v1/feed?subclaw=paging&limit=7');
    const elsewhere = await call(app, `/v1/feed?subclaw=other&limit=7&cursor=${first.body.next_cursor}`);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.details.issues[0].field).toBe('query.cursor');
    const otherSort = await call(app, `/v1/feed?subclaw=paging&sort=top&limit=7&cursor=${first.body.next_cursor}`);
    expect(otherSort.status).toBe(400);
  });
});
