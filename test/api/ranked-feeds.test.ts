/**
 * Paging the stored rankings: many equal scores (and equal created_at) neither repeat nor skip a
 * post; hot pages started on one snapshot fit together across a refresh, while a new first page
 * reads the new snapshot; posts deleted or expired since a snapshot leave every ranked page at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { pubkeys, sign, T0, type Actor } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { storeEvents } from '../helpers/store.js';
import { loadFeed, type FeedParams } from '../../src/api/feeds.js';
import { query } from '../../src/db/client.js';
import { decodeCursor } from '../../src/api/cursor.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { refreshHotRanking } from '../../src/store/ranking.js';

const URL_AI = 'https://clawstr.com/c/ai';
const NOW = T0 + 2 * 86_400;

function post(actor: Actor, createdAt: number, n: number, extra: string[][] = []): NostrEvent {
  return sign(actor, {
    kind: 1111,
    created_at: createdAt,
    tags: [['I', URL_AI], ['K', 'web'], ['i', URL_AI], ['k', 'web'], ...extra],
    content: `tie post ${n}`,
  });
}

function vote(actor: Actor, target: NostrEvent, createdAt: number, content = '+'): NostrEvent {
  return sign(actor, { kind: 7, created_at: createdAt, tags: [['e', target.id, '', target.pubkey], ['p', target.pubkey], ['k', '1111']], content });
}

/** 36 posts in three created_at groups; scores 0, 1 or 2 in a pattern, so every score has many ties. */
const posts = Array.from({ length: 36 }, (_, i) => post((['alice', 'carol', 'agent'] as Actor[])[i % 3]!, T0 + 3_600 * Math.floor(i / 12), i));
const voters: Actor[] = ['bob', 'stranger'];
const votes = posts.flatMap((p, i) => voters.slice(0, i % 3).map((v) => vote(v, p, T0 + 40_000 + i)));

async function allPages(db: TestDatabase, params: Partial<FeedParams>, limit: number, now = NOW): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages < 200; pages++) {
    const page = await loadFeed(db.reads, { scope: 'feed', ai: 'all', ...params, limit, ...(cursor ? { cursor } : {}) }, now);
    ids.push(...page.items.map((p) => p.id));
    if (page.next_cursor === null) return { ids, pages };
    cursor = page.next_cursor;
  }
  throw new Error('too many pages');
}

describe.each(engines)('ranked feed pages on %s', (driver) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(driver);
    await storeEvents(db.db, [...posts, ...votes], { batchSize: 25 });
    await refreshHotRanking(db.db, NOW);
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it.each([
    { sort: 'top', window: 'all' },
    { sort: 'top', window: 'week' },
    { sort: 'hot', window: 'all' },
    { sort: 'hot', window: 'week' },
  ] as const)('$sort over $window: pages of 5 over 36 tied posts neither repeat nor skip', async (sort) => {
    const paged = await allPages(db, sort, 5);
    const whole = await allPages(db, sort, 100);
    expect(whole.pages).toBe(1);
    expect(paged.pages).toBe(8);
    expect(new Set(paged.ids).size).toBe(36);
    expect(paged.ids).toEqual(whole.ids);
    expect(new Set(paged.ids)).toEqual(new Set(posts.map((p) => p.id)));
  });

  it('reads hot pages from the snapshot, fits a cursor to it across a refresh, and drops deleted and expired posts at once', async () => {
    const params = { sort: 'hot', window: 'all' } as const;
    const first = await loadFeed(db.reads, { scope: 'feed', ai: 'all', ...params, limit: 10 }, NOW + 30);
    const generation = decodeCursor(first.next_cursor!, firstFilters(), { score: true }).g;
    expect(generation).toBeGreaterThan(0);
    const snapshotOrder = (await allPages(db, params, 100, NOW + 30)).ids;

    // New votes lift the last post of the snapshot's order to the top; a post of page 2 is deleted.
    const lifted = posts.find((p) => p.id === snapshotOrder[snapshotOrder.length - 1])!;
    const deleted = posts.find((p) => p.id === snapshotOrder[12])!;
    const lifting = (['zapper', 'moderator', 'owner', 'lnurl', 'bob', 'stranger'] as Actor[]).map((a) => vote(a, lifted, T0 + 50_000));
    const deletion = sign(actorOf(deleted), { kind: 5, created_at: T0 + 50_001, tags: [['e', deleted.id], ['k', '1111']] });
    await storeEvents(db.db, [...lifting, deletion]);
    // Before the refresh, the snapshot still ranks `lifted` last; the deleted post is gone already.
    const stale = (await allPages(db, params, 100, NOW + 40)).ids;
    expect(stale).toEqual(snapshotOrder.filter((id) => id !== deleted.id));
    await refreshHotRanking(db.db, NOW + 60);

    // The cursor taken before the refresh continues the old snapshot: pages fit together.
    const rest = await allPages(db, { ...params, cursor: first.next_cursor! }, 10, NOW + 70);
    expect([...first.items.map((p) => p.id), ...rest.ids]).toEqual(snapshotOrder.filter((id) => id !== deleted.id));
    // A new first page reads the new snapshot, where `lifted` leads.
    const fresh = await loadFeed(db.reads, { scope: 'feed', ai: 'all', ...params, limit: 10 }, NOW + 70);
    expect(fresh.items[0]!.id).toBe(lifted.id);
    expect(decodeCursor(fresh.next_cursor!, firstFilters(), { score: true }).g).toBe(generation! + 1);

    // Once the old snapshot is dropped, its cursor still pages (scored live at its reference time).
    await refreshHotRanking(db.db, NOW + 10_000, { retainSeconds: 0 });
    const afterDrop = await loadFeed(db.reads, { scope: 'feed', ai: 'all', ...params, limit: 10, cursor: first.next_cursor! }, NOW + 10_001);
    expect(afterDrop.items.length).toBe(10);
    const kept = await query<{ n: number | string }>(db.db, sql`SELECT count(*) AS n FROM ranking_generations`);
    expect(Number(kept[0]!.n)).toBe(1);
  });

  it('drops an expired post from top and hot pages the moment it expires', async () => {
    const expiresAt = NOW + 20_000;
    const expiring = post('alice', T0 + 7_200, 99, [['expiration', String(expiresAt)]]);
    await storeEvents(db.db, [expiring, vote('bob', expiring, T0 + 60_000), vote('carol', expiring, T0 + 60_001)]);
    await refreshHotRanking(db.db, NOW + 19_000);
    for (const sort of [{ sort: 'top', window: 'all' }, { sort: 'hot', window: 'all' }] as const) {
      const before = await allPages(db, sort, 100, expiresAt - 1);
      const after = await allPages(db, sort, 100, expiresAt);
      expect(before.ids, sort.sort).toContain(expiring.id);
      expect(after.ids, sort.sort).not.toContain(expiring.id);
      expect(after.ids.length).toBe(before.ids.length - 1);
    }
  });
});

function firstFilters(): Record<string, unknown> {
  return { scope: 'feed', subclaw: undefined, community: undefined, author: undefined, ai: 'all', since: undefined, until: undefined, sort: 'hot', window: 'all', approved: undefined };
}

function actorOf(event: NostrEvent): Actor {
  return (Object.keys(pubkeys) as Actor[]).find((a) => pubkeys[a] === event.pubkey)!;
}
