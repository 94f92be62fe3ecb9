/**
 * The final state of the cache is a function of the set of events, not of their arrival order,
 * their batching, or repeats: the corpus plus the hand-built world, written in 5 seeded random
 * orders with random batch sizes, and each twice over, give the same canonical dump.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { loadCorpus } from '../fixtures/corpus.js';
import { handBuiltEvents, pubkeys, sign, T0, world } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { canonicalDump, seededRandom, shuffled, storeEvents, testNormalizeOptions } from '../helpers/store.js';
import { rebuildDerived } from '../../src/store/rebuild.js';
import { query } from '../../src/db/client.js';

// A second community whose moderator stays (the world's community v2 removes its moderator).
const keptModerator = sign('moderator', {
  kind: 34550,
  created_at: T0 + 50,
  tags: [['d', 'second'], ['name', 'Second'], ['p', pubkeys.alice, '', 'moderator']],
});
// event_stats is maintained by deltas (src/store/stat-deltas.ts): a reply and a valid zap that are
// later deleted must leave the totals, whichever of each pair arrives first.
const deletedReply = sign('bob', {
  kind: 1111,
  created_at: T0 + 900,
  tags: world.replies.depth1.tags,
  content: 'a reply bob takes back',
});
const replyDeletion = sign('bob', { kind: 5, created_at: T0 + 901, tags: [['e', deletedReply.id], ['k', '1111']] });
const deletedZap = sign('lnurl', { kind: 9735, created_at: T0 + 1106, tags: world.zaps.receipt.tags });
const zapDeletion = sign('lnurl', { kind: 5, created_at: T0 + 1107, tags: [['e', deletedZap.id], ['k', '9735']] });
const events = [...loadCorpus(), ...handBuiltEvents, keptModerator, deletedReply, replyDeletion, deletedZap, zapDeletion];
const SEEDS = [1, 2, 3, 4, 5];

describe.each(engines)('order independence on %s', (driver) => {
  let reference: Record<string, string>;

  beforeAll(async () => {
    const database = await createTestDatabase(driver);
    try {
      await storeEvents(database.db, events, { batchSize: 500 });
      reference = await canonicalDump(database.db);
    } finally {
      await database.destroy();
    }
  });

  it('has a reference with content in every table', () => {
    for (const [table, rows] of Object.entries(reference)) expect(JSON.parse(rows).length, table).toBeGreaterThan(0);
  });

  it('does not count the deleted zap (the reply is checked by the zero-drift recount below)', () => {
    const stats = JSON.parse(reference.event_stats!) as Array<Record<string, unknown>>;
    const ofPost = stats.find((r) => r.event_id === world.posts.aiTopLevel.id);
    // One valid zap of 1,000,000 msat (zaps.receipt); its re-signed copy was deleted.
    expect(ofPost).toMatchObject({ zap_count: 1 });
    expect(String(ofPost!.zap_msat)).toBe('1000000');
  });

  it.each(SEEDS)('seed %i: a shuffled order, then a second shuffled pass, gives the reference state', async (seed) => {
    const random = seededRandom(seed);
    const nextSize = () => 1 + Math.floor(random() * 300);
    const database = await createTestDatabase(driver);
    try {
      await storeEvents(database.db, shuffled(events, random), { nextSize });
      expect(await canonicalDump(database.db)).toEqual(reference);
      await storeEvents(database.db, shuffled(events, random), { nextSize });
      expect(await canonicalDump(database.db)).toEqual(reference);
      // The incrementally kept tables equal their recount from nostr_events.
      const drift = await rebuildDerived(database.db, testNormalizeOptions);
      expect(Object.entries(drift).filter(([, n]) => n !== 0)).toEqual([]);
    } finally {
      await database.destroy();
    }
  });
});

describe.each(engines)('stats rebuild on %s', (driver) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
    await storeEvents(database.db, events, { batchSize: 250 });
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('reports zero drift on a consistent database and changes nothing', async () => {
    const before = await canonicalDump(database.db);
    const drift = await rebuildDerived(database.db, testNormalizeOptions);
    expect(Object.values(drift).reduce((a, b) => a + b, 0)).toBe(0);
    expect(Object.keys(drift).sort()).toEqual(
      [
        'tombstones',
        'nostr_events.deleted_at',
        'zaps',
        'community_approvals',
        'reactions',
        'event_stats',
        'post_ranking',
        'nostr_profiles',
        'communities',
        'community_moderators',
      ].sort(),
    );
    expect(await canonicalDump(database.db)).toEqual(before);
  });

  it('reports and repairs deliberate corruption, table by table', async () => {
    const consistent = await canonicalDump(database.db);
    const { aiTopLevel, humanTopLevel, toBeDeleted } = world.posts;
    await database.db.execute(sql`UPDATE event_stats SET up = up + 5 WHERE event_id = ${aiTopLevel.id}`);
    await database.db.execute(sql`DELETE FROM reactions WHERE target = ${humanTopLevel.id}`);
    await database.db.execute(sql`UPDATE nostr_profiles SET name = 'tampered' WHERE event_id = ${world.profiles.aliceV2.id}`);
    await database.db.execute(sql`UPDATE nostr_events SET deleted_at = NULL WHERE event_id = ${toBeDeleted.id}`);
    await database.db.execute(sql`DELETE FROM zaps WHERE receipt_id = ${world.zaps.receipt.id}`);
    await database.db.execute(sql`INSERT INTO community_moderators (address, pubkey) VALUES ('34550:x:y', 'z')`);

    const drift = await rebuildDerived(database.db, testNormalizeOptions);
    expect(drift).toEqual({
      tombstones: 0,
      'nostr_events.deleted_at': 1,
      zaps: 1,
      community_approvals: 0,
      // bob's -1 and carol's emoji on humanTopLevel
      reactions: 2,
      // aiTopLevel's inflated up count; its zap total is recomputed from the restored zap, so 1 key
      event_stats: 1,
      // the ranking was kept from the true stats; tampering with event_stats alone leaves it right
      post_ranking: 0,
      nostr_profiles: 1,
      communities: 0,
      community_moderators: 1,
    });
    expect(await canonicalDump(database.db)).toEqual(consistent);
    const again = await rebuildDerived(database.db, testNormalizeOptions);
    expect(Object.values(again).reduce((a, b) => a + b, 0)).toBe(0);
    const rows = await query<{ up: number }>(database.db, sql`SELECT up FROM event_stats WHERE event_id = ${aiTopLevel.id}`);
    expect(rows).toEqual([{ up: 2 }]);
  });
});
