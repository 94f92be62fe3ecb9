/**
 * The stored feed rankings (src/store/ranking.ts) equal a recomputation from scratch, whatever the
 * arrival order: the hand-built world plus a seeded random mix of votes, vote changes, retractions,
 * post and zap deletions, zaps, replies and expiring contributions, written in shuffled orders and
 * random batches. Every ranked page, paged through its cursors, equals the live scoring query of
 * feed.ts over the same events (global, per subclaw, per community, approved only, with the ai
 * filter; top and hot over several windows; before and after the expiring events expire).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { communityAddress, FAR_FUTURE, handBuiltEvents, pubkeys, sign, T0, world, type Actor } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { seededRandom, shuffled, storeEvents, testNormalizeOptions } from '../helpers/store.js';
import { query, type AppDatabase } from '../../src/db/client.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { loadFeed, type FeedParams, type FeedWindow } from '../../src/api/feeds.js';
import { toPost, type Post } from '../../src/api/shape.js';
import { feedPage } from '../../src/store/queries/feed.js';
import { refreshHotRanking } from '../../src/store/ranking.js';
import { rebuildDerived } from '../../src/store/rebuild.js';

const DAY = 86_400;
const SUBCLAWS = { ai: 'https://clawstr.com/c/ai', nostr: 'https://clawstr.com/c/nostr' };
const AGENT_LABELS = [['L', 'agent'], ['l', 'ai', 'agent']];

function post(actor: Actor, subclaw: keyof typeof SUBCLAWS, createdAt: number, n: number): NostrEvent {
  const url = SUBCLAWS[subclaw];
  return sign(actor, {
    kind: 1111,
    created_at: createdAt,
    tags: [['I', url], ['K', 'web'], ['i', url], ['k', 'web'], ...(actor === 'agent' ? AGENT_LABELS : [])],
    content: `ranked post ${n}`,
  });
}

function bolt11(hrp: string, label: string): string {
  const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const bytes = createHash('sha256').update(label).digest();
  let data = 'p';
  for (let i = 0; i < 120; i++) data += charset[((bytes[i % 32] as number) ^ i) & 31];
  return `${hrp}1${data}`;
}

/** A valid zap (validity 3): a signed request for 1,000,000 msat and a receipt whose invoice agrees. */
function zap(target: NostrEvent, createdAt: number): NostrEvent {
  const request = sign('zapper', {
    kind: 9734,
    created_at: createdAt,
    tags: [['relays', 'wss://relay.example.com'], ['amount', '1000000'], ['p', target.pubkey], ['e', target.id]],
    content: `zap ${createdAt}`,
  });
  const invoice = bolt11('lnbc10u', `zap ${createdAt}`);
  return sign('lnurl', {
    kind: 9735,
    created_at: createdAt + 1,
    tags: [
      ['p', target.pubkey],
      ['e', target.id],
      ['P', request.pubkey],
      ['bolt11', invoice],
      ['description', JSON.stringify(request)],
      ['preimage', createHash('sha256').update(invoice).digest('hex')],
    ],
  });
}

/** A seeded mix of everything that moves a score, over the world's posts and ten more. */
function randomActivity(seed: number): NostrEvent[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const actors: Actor[] = ['bob', 'carol', 'stranger', 'zapper', 'moderator', 'owner', 'alice'];
  const mine = Array.from({ length: 10 }, (_, i) => post(pick(['agent', 'alice', 'carol'] as Actor[]), pick(['ai', 'nostr'] as const), T0 + i * DAY + 100, i));
  const posts = [world.posts.aiTopLevel, world.posts.humanTopLevel, world.communityPosts.comment, world.communityPosts.legacyNote, ...mine];
  const out: NostrEvent[] = [...mine];
  const votes: NostrEvent[] = [];
  const replies: NostrEvent[] = [];
  const zaps: NostrEvent[] = [];
  let t = T0 + 11 * DAY;
  for (let i = 0; i < 160; i++) {
    t += 1 + Math.floor(random() * 5);
    const expiring = random() < 0.1 ? [['expiration', String(FAR_FUTURE)]] : [];
    const roll = random();
    if (roll < 0.45) {
      // A vote, or a later reaction of the same reactor that replaces its vote.
      const target = pick(posts);
      const vote = sign(pick(actors), {
        kind: 7,
        created_at: t,
        tags: [['e', target.id, '', target.pubkey], ['p', target.pubkey], ['k', String(target.kind)], ...expiring],
        content: pick(['+', '+', '-', '', '🔥']),
      });
      votes.push(vote);
      out.push(vote);
    } else if (roll < 0.55 && votes.length > 0) {
      const vote = pick(votes);
      out.push(sign(actorOf(vote), { kind: 5, created_at: t, tags: [['e', vote.id], ['k', '7']] }));
    } else if (roll < 0.8) {
      // Replies to posts (subclaw scope) and to replies (which count for the reply, not the post).
      const parent = random() < 0.75 || replies.length === 0 ? pick(posts.filter((p) => p.kind === 1111)) : pick(replies);
      const scope = parent.tags.find((tag) => tag[0] === 'I' || tag[0] === 'A')!;
      const reply = sign(pick(actors), {
        kind: 1111,
        created_at: t,
        tags: [[scope[0]!, scope[1]!], ['K', scope[0] === 'A' ? '34550' : 'web'], ['e', parent.id, '', parent.pubkey], ['k', '1111'], ['p', parent.pubkey], ...expiring],
        content: `reply ${i}`,
      });
      replies.push(reply);
      out.push(reply);
    } else if (roll < 0.92) {
      const receipt = zap(pick(posts), t);
      zaps.push(receipt);
      out.push(receipt);
    } else if (roll < 0.96 && zaps.length > 0) {
      out.push(sign('lnurl', { kind: 5, created_at: t, tags: [['e', pick(zaps).id], ['k', '9735']] }));
    } else if (replies.length > 0) {
      const reply = pick(replies);
      out.push(sign(actorOf(reply), { kind: 5, created_at: t, tags: [['e', reply.id], ['k', '1111']] }));
    }
  }
  // Two of the new posts are deleted by their authors.
  for (const deleted of [mine[3]!, mine[7]!]) out.push(sign(actorOf(deleted), { kind: 5, created_at: t + 10, tags: [['e', deleted.id], ['k', '1111']] }));
  return out;
}

function actorOf(event: NostrEvent): Actor {
  return (Object.keys(pubkeys) as Actor[]).find((a) => pubkeys[a] === event.pubkey)!;
}

const events = [...handBuiltEvents, ...randomActivity(14)];

async function rankingDump(db: AppDatabase): Promise<string> {
  const rows = await query(db, sql`SELECT event_id, created_at::text, subclaw, community, is_ai, expires_at::text, score::text FROM post_ranking ORDER BY event_id`);
  return JSON.stringify(rows);
}

const WINDOW_SECONDS: Partial<Record<FeedWindow, number>> = { day: DAY, week: 7 * DAY };
const SCOPES: Array<Partial<FeedParams>> = [
  {},
  { subclaw: 'ai' },
  { subclaw: 'nostr' },
  { community: communityAddress },
  { community: communityAddress, approved: 'only' },
  { ai: 'only' },
  { ai: 'exclude' },
];
const SORTS: Array<{ sort: 'top' | 'hot'; window: FeedWindow }> = [
  { sort: 'top', window: 'all' },
  { sort: 'top', window: 'week' },
  { sort: 'top', window: 'day' },
  { sort: 'hot', window: 'all' },
  { sort: 'hot', window: 'week' },
];
/** Ten days after the world began (windows hold some posts), and after every expiring event expired. */
const NOWS = [T0 + 16 * DAY, FAR_FUTURE + 10];

/** Every page of a ranked feed through its cursors. */
async function pagedRanked(db: AppDatabase, params: Partial<FeedParams>, now: number): Promise<Post[]> {
  const out: Post[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await loadFeed(db, { scope: 'feed', ai: 'all', ...params, limit: 3, ...(cursor ? { cursor } : {}) }, now);
    out.push(...page.items);
    if (page.next_cursor === null) return out;
    cursor = page.next_cursor;
  }
  throw new Error('more than 100 pages');
}

/** The same feed scored from scratch by feed.ts's live query, in one page. */
async function liveScored(db: AppDatabase, params: Partial<FeedParams> & { sort: 'top' | 'hot'; window: FeedWindow }, now: number): Promise<Post[]> {
  const seconds = WINDOW_SECONDS[params.window];
  const rows = await feedPage(db, {
    subclaw: params.subclaw,
    community: params.community,
    ai: params.ai ?? 'all',
    approvedOnly: params.approved === 'only',
    withApproved: params.approved !== undefined,
    sort: params.sort,
    windowStart: seconds === undefined ? undefined : now - seconds,
    ref: now,
    now,
    limit: 10_000,
  });
  return rows.map((r) => toPost(r, { hot: params.sort === 'hot' }));
}

/** Ranked pages (through the stored rankings) equal the live scoring, for every scope, sort and now. */
async function expectRankedEqualsLive(db: AppDatabase): Promise<number> {
  let compared = 0;
  for (const now of NOWS) {
    // The hot snapshot at this reference time: hot pages rank at the snapshot's ref.
    await refreshHotRanking(db, now);
    for (const scope of SCOPES) {
      for (const sort of SORTS) {
        const params = { ...scope, ...sort };
        const label = JSON.stringify({ ...params, now });
        const live = await liveScored(db, params, now);
        expect(await pagedRanked(db, params, now), label).toEqual(live);
        compared += live.length;
      }
    }
  }
  return compared;
}

describe.each(engines)('feed rankings on %s', (driver) => {
  let reference: string;
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    // Small batches: most votes, replies and zaps arrive after their post.
    await storeEvents(database.db, events, { batchSize: 37 });
    reference = await rankingDump(database.db);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('ranks the live posts only, and their pages equal the scores computed from scratch', async () => {
    const ranked = JSON.parse(reference) as Array<{ event_id: string; score: string }>;
    // The world's posts that are live, plus the ten new ones less the two deleted.
    expect(ranked.some((r) => r.event_id === world.posts.aiTopLevel.id)).toBe(true);
    expect(ranked.some((r) => r.event_id === world.communityPosts.legacyNote.id)).toBe(true);
    expect(ranked.some((r) => r.event_id === world.communityPosts.reply.id)).toBe(false);
    expect(ranked.some((r) => Number(r.score) !== 0)).toBe(true);
    expect(await expectRankedEqualsLive(database.db)).toBeGreaterThan(100);
  });

  it.each([1, 2, 3])('seed %i: shuffled arrival in random batches gives the same ranking and zero drift', async (seed) => {
    const random = seededRandom(seed);
    const db = await createTestDatabase(driver);
    try {
      await storeEvents(db.db, shuffled(events, random), { nextSize: () => 1 + Math.floor(random() * 120) });
      expect(await rankingDump(db.db)).toEqual(reference);
      await storeEvents(db.db, shuffled(events, random), { nextSize: () => 1 + Math.floor(random() * 120) });
      expect(await rankingDump(db.db)).toEqual(reference);
      const drift = await rebuildDerived(db.db, testNormalizeOptions);
      expect(drift.post_ranking).toBe(0);
      await expectRankedEqualsLive(db.db);
    } finally {
      await db.destroy();
    }
  });

  it('stats rebuild restores a corrupted ranking and counts each wrong post once', async () => {
    const { aiTopLevel, humanTopLevel } = world.posts;
    await database.db.execute(sql`UPDATE post_ranking SET score = score + 7 WHERE event_id = ${aiTopLevel.id}`);
    await database.db.execute(sql`DELETE FROM post_ranking WHERE event_id = ${humanTopLevel.id}`);
    await database.db.execute(sql`INSERT INTO post_ranking (event_id, created_at, is_ai, score) VALUES (${world.replies.depth1.id}, ${T0}, false, 3)`);
    const drift = await rebuildDerived(database.db, testNormalizeOptions);
    expect(drift.post_ranking).toBe(3);
    expect(await rankingDump(database.db)).toEqual(reference);
  });
});
