/**
 * The read API over the hand-built clawstr world (test/fixtures/hand-built.ts) plus a few events of
 * our own: a community whose current definition has a moderator, approvals by that moderator and
 * by a stranger, and a fresh owner approval in the fixture's community. Expected values are worked
 * out from the fixture by hand (see the comments).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npubEncode, noteEncode, neventEncode, nprofileEncode } from 'nostr-tools/nip19';
import type { ApiApp } from '../../src/api/app.js';
import { T0, communityAddress, handBuiltEvents, pubkeys, sign, world } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { call, post, testApp, testNormalizeOptions, writeEvents } from './helpers.js';

const { posts, replies, communityPosts } = world;

// Our own NIP-72 community where `moderator` IS a current moderator.
const MODS_D = 'mods';
const modsAddress = `34550:${pubkeys.owner}:${MODS_D}`;
const modsDefinition = sign('owner', {
  kind: 34550,
  created_at: T0 + 7000,
  tags: [['d', MODS_D], ['name', 'Moderated'], ['p', pubkeys.moderator, '', 'moderator']],
});
function modsPost(actor: 'bob' | 'carol', at: number, content: string) {
  return sign(actor, {
    kind: 1111,
    created_at: at,
    tags: [['A', modsAddress], ['K', '34550'], ['a', modsAddress], ['k', '34550']],
    content,
  });
}
const modsApprovedPost = modsPost('bob', T0 + 7100, 'approved by the moderator');
const modsStrangerPost = modsPost('carol', T0 + 7200, 'approved only by a stranger');
function approve(actor: 'moderator' | 'stranger' | 'owner', at: number, address: string, target: { id: string; pubkey: string; kind: number }) {
  return sign(actor, {
    kind: 4550,
    created_at: at,
    tags: [['a', address], ['e', target.id], ['p', target.pubkey], ['k', String(target.kind)]],
    content: JSON.stringify(target),
  });
}
// Events that expired after ingest (writeBatch stores them; only the pipeline drops expired
// arrivals): a reply, a vote and a valid zap receipt. Reads must leave them out of lists and totals.
const EXPIRED_AT = String(T0 + 2000);
const expiredReply = sign('bob', {
  kind: 1111,
  created_at: T0 + 1500,
  tags: [['I', 'https://clawstr.com/c/nostr'], ['K', 'web'], ['e', posts.humanTopLevel.id, '', posts.humanTopLevel.pubkey], ['k', '1111'], ['expiration', EXPIRED_AT]],
  content: 'gone soon',
});
const expiredVote = sign('zapper', {
  kind: 7,
  created_at: T0 + 1501,
  tags: [['e', posts.humanTopLevel.id], ['p', posts.humanTopLevel.pubkey], ['expiration', EXPIRED_AT]],
  content: '+',
});
const expiredZap = sign('lnurl', { kind: 9735, created_at: T0 + 1502, tags: [...world.zaps.receipt.tags, ['expiration', EXPIRED_AT]] });

const extra = [
  expiredReply,
  expiredVote,
  expiredZap,
  modsDefinition,
  modsApprovedPost,
  modsStrangerPost,
  approve('moderator', T0 + 7300, modsAddress, modsApprovedPost),
  approve('stranger', T0 + 7400, modsAddress, modsStrangerPost),
  // In the fixture community, the owner approves the legacy kind-1 post again (the earlier owner
  // approval was of the kind-1111 post and is withdrawn by a deletion).
  approve('owner', T0 + 7500, communityAddress, communityPosts.legacyNote),
];

/** Live top-level posts of the fixture, newest first (deleted: toBeDeleted, lateTarget, backdatedTarget; expired: past). */
const globalFeed = [
  world.expiring.nonInteger,
  world.expiring.farFuture,
  communityPosts.legacyNote,
  communityPosts.comment,
  posts.partialLabel,
  posts.malformedNoParent,
  posts.mixedCaseUrl,
  posts.legacyHashtag,
  posts.humanTopLevel,
  posts.aiTopLevel,
].map((e) => e.id);

describe.each(engines)('read API over the hand-built world on %s', (driver) => {
  let database: TestDatabase;
  let app: ApiApp;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
    const options = await testNormalizeOptions();
    await writeEvents(database, handBuiltEvents, options, 7);
    await writeEvents(database, extra, options, 3);
    app = testApp(database);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('GET /v1/feed lists live top-level posts newest first, deleted and expired ones left out', async () => {
    const r = await call(app, '/v1/feed?limit=100');
    expect(r.status).toBe(200);
    const ids = r.body.items.map((p: any) => p.id).filter((id: string) => !extra.some((e) => e.id === id));
    expect(ids).toEqual(globalFeed);
    expect(r.body.next_cursor).toBeNull();
  });

  it('feed items carry exact stats and the author profile', async () => {
    const r = await call(app, '/v1/feed?subclaw=ai&limit=100');
    expect(r.body.items.map((p: any) => p.id)).toEqual([posts.partialLabel.id, posts.malformedNoParent.id, posts.aiTopLevel.id]);
    const ai = r.body.items[2];
    // depth1 replies; bob '+' and alice '' (= '+') vote up; one valid zap of 1,000,000 msat (the
    // amount-mismatch receipt has validity 1 and does not count).
    expect(ai.stats).toEqual({ replies: 1, up: 2, down: 0, score: 2 + 2 * 1 + 100, zap_count: 1, zap_sats: 1000, zap_msat: '1000000' });
    expect(ai.author).toMatchObject({ pubkey: pubkeys.agent, npub: npubEncode(pubkeys.agent), name: 'clawbot', display_name: 'Claw Bot' });
    expect(ai.is_ai).toBe(true);
    expect(ai.subclaw).toBe('ai');
    const human = (await call(app, `/v1/events/${posts.humanTopLevel.id}`)).body;
    // bob's '+' then '-': his latest (-1) counts; carol's emoji is a reaction without a vote; the forged zap has validity 0.
    expect(human.stats).toEqual({ replies: 0, up: 0, down: 1, score: -1, zap_count: 0, zap_sats: 0, zap_msat: '0' });
    expect(human.author).toMatchObject({ name: 'alice', display_name: 'Alice', nip05: 'alice@example.com' });
  });

  it('filters by subclaw, ai, author, community, since and until', async () => {
    const ids = async (q: string) => (await call(app, `/v1/feed?limit=100&${q}`)).body.items.map((p: any) => p.id);
    expect(await ids('subclaw=nostr')).toEqual([world.expiring.nonInteger.id, world.expiring.farFuture.id, posts.mixedCaseUrl.id, posts.humanTopLevel.id]);
    expect(await ids('subclaw=NOSTR')).toEqual(await ids('subclaw=nostr'));
    expect(await ids('subclaw=bitcoin')).toEqual([posts.legacyHashtag.id]);
    expect(await ids('ai=only')).toEqual([posts.mixedCaseUrl.id, posts.aiTopLevel.id]);
    expect((await ids('ai=exclude')).length).toBe(globalFeed.length + 2 - 2); // + our 2 community posts
    expect(await ids(`author=${npubEncode(pubkeys.bob)}`)).toEqual([modsApprovedPost.id, communityPosts.legacyNote.id, posts.partialLabel.id, posts.legacyHashtag.id]);
    expect(await ids(`community=${encodeURIComponent(communityAddress)}`)).toEqual([communityPosts.legacyNote.id, communityPosts.comment.id]);
    expect(await ids(`since=${T0 + 30}&until=${T0 + 70}`)).toEqual([posts.partialLabel.id, posts.malformedNoParent.id, posts.mixedCaseUrl.id, posts.legacyHashtag.id]);
  });

  it('sort=top ranks by score, ties newest first', async () => {
    const r = await call(app, '/v1/feed?sort=top&window=all&subclaw=nostr');
    // humanTopLevel has score -1, the others 0.
    expect(r.body.items.map((p: any) => p.id)).toEqual([world.expiring.nonInteger.id, world.expiring.farFuture.id, posts.mixedCaseUrl.id, posts.humanTopLevel.id]);
    const hot = await call(app, '/v1/feed?sort=hot&window=all&subclaw=ai');
    expect(hot.body.items[0].id).toBe(posts.aiTopLevel.id);
    expect(hot.body.items[0].hot).toBeGreaterThan(0);
  });

  it('GET /v1/authors/:pubkey/posts', async () => {
    const r = await call(app, `/v1/authors/${npubEncode(pubkeys.alice)}/posts`);
    expect(r.status).toBe(200);
    expect(r.body.items.map((p: any) => p.id)).toEqual([world.expiring.nonInteger.id, world.expiring.farFuture.id, communityPosts.comment.id, posts.humanTopLevel.id]);
  });

  it('GET /v1/events/:id accepts hex, note1 and nevent1; deleted, expired and unknown ids are 404', async () => {
    for (const ref of [posts.aiTopLevel.id, noteEncode(posts.aiTopLevel.id), neventEncode({ id: posts.aiTopLevel.id, relays: ['wss://r.example'] })]) {
      const r = await call(app, `/v1/events/${ref}`);
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(posts.aiTopLevel.id);
      expect(r.body.sig).toBe(posts.aiTopLevel.sig);
    }
    for (const gone of [posts.toBeDeleted.id, world.posts.lateTarget.id, world.expiring.past.id, 'f'.repeat(64)]) {
      const r = await call(app, `/v1/events/${gone}`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });

  it('GET /v1/events/:id/replies lists direct replies; a deleted post keeps its replies', async () => {
    const r = await call(app, `/v1/events/${posts.aiTopLevel.id}/replies`);
    expect(r.body.items.map((p: any) => p.id)).toEqual([replies.depth1.id]);
    expect(r.body.items[0].stats.replies).toBe(1);
    const under = await call(app, `/v1/events/${posts.toBeDeleted.id}/replies`);
    expect(under.status).toBe(200);
    expect(under.body.items.map((p: any) => p.id)).toEqual([replies.underDeletedPost.id]);
    expect((await call(app, `/v1/events/${'e'.repeat(64)}/replies`)).status).toBe(404);
  });

  it('GET /v1/events/:id/thread returns the tree 4 deep with depth and parent, paginated', async () => {
    const r = await call(app, `/v1/events/${posts.aiTopLevel.id}/thread`);
    expect(r.status).toBe(200);
    expect(r.body.root.id).toBe(posts.aiTopLevel.id);
    expect(r.body.items.map((p: any) => [p.id, p.depth, p.parent_id])).toEqual([
      [replies.depth1.id, 1, posts.aiTopLevel.id],
      [replies.depth2.id, 2, replies.depth1.id],
      [replies.depth3.id, 3, replies.depth2.id],
      [replies.depth4.id, 4, replies.depth3.id],
    ]);
    expect(r.body).toMatchObject({ total: 4, truncated: false, next_cursor: null });
    // depth 3 (first tag a `q` quote) still has depth2 as parent; the depth2 vote (carol) counts, the shortcode is vote 0.
    expect(r.body.items[1].stats).toMatchObject({ up: 1, down: 0, replies: 1 });
    // Bounded depth.
    const shallow = await call(app, `/v1/events/${posts.aiTopLevel.id}/thread?max_depth=2`);
    expect(shallow.body.items.map((p: any) => p.depth)).toEqual([1, 2]);
    // Pages of one.
    const first = await call(app, `/v1/events/${posts.aiTopLevel.id}/thread?limit=1`);
    const second = await call(app, `/v1/events/${posts.aiTopLevel.id}/thread?limit=1&cursor=${first.body.next_cursor}`);
    expect(first.body.items[0].id).toBe(replies.depth1.id);
    expect(second.body.items[0].id).toBe(replies.depth2.id);
    // Under a deleted root: root null, replies stay.
    const deleted = await call(app, `/v1/events/${posts.toBeDeleted.id}/thread`);
    expect(deleted.body.root).toBeNull();
    expect(deleted.body.items.map((p: any) => p.id)).toEqual([replies.underDeletedPost.id]);
  });

  it('GET /v1/events/:id/reactions: one vote per reactor, per-emoji counts, deleted reactions gone', async () => {
    const human = await call(app, `/v1/events/${posts.humanTopLevel.id}/reactions`);
    expect(human.body).toEqual({ event_id: posts.humanTopLevel.id, up: 0, down: 1, total: 2, emojis: [{ emoji: '-', count: 1 }, { emoji: '🤙', count: 1 }] });
    const ai = await call(app, `/v1/events/${posts.aiTopLevel.id}/reactions`);
    expect(ai.body).toMatchObject({ up: 2, down: 0, total: 2, emojis: [{ emoji: '+', count: 2 }] });
    // carol's upvote on depth1 was deleted by carol.
    const d1 = await call(app, `/v1/events/${replies.depth1.id}/reactions`);
    expect(d1.body).toMatchObject({ up: 0, down: 0, total: 0, emojis: [] });
    expect((await call(app, `/v1/events/${posts.toBeDeleted.id}/reactions`)).status).toBe(404);
  });

  it('GET /v1/events/:id/zaps lists receipts with amount, sender and validity; totals count validity >= 2', async () => {
    const r = await call(app, `/v1/events/${posts.aiTopLevel.id}/zaps`);
    expect(r.body).toMatchObject({ zap_count: 1, zap_msat: '1000000', zap_sats: 1000 });
    expect(r.body.items.map((z: any) => [z.receipt_id, z.amount_msat, z.validity])).toEqual([
      [world.zaps.amountMismatch.id, '2000000', 1],
      [world.zaps.receipt.id, '1000000', 3],
    ]);
    expect(r.body.items[1]).toMatchObject({ sender: pubkeys.zapper, sender_verified: true, amount_sats: 1000 });
    const valid = await call(app, `/v1/events/${posts.aiTopLevel.id}/zaps?min_validity=2`);
    expect(valid.body.items.map((z: any) => z.receipt_id)).toEqual([world.zaps.receipt.id]);
    const forged = await call(app, `/v1/events/${posts.humanTopLevel.id}/zaps`);
    expect(forged.body).toMatchObject({ zap_count: 0, zap_msat: '0' });
    expect(forged.body.items.map((z: any) => z.validity)).toEqual([0]);
  });

  it('expired replies, votes and zaps are stored but neither listed nor counted', async () => {
    const stored = await call(app, `/v1/events/${expiredReply.id}`);
    expect(stored.status).toBe(404);
    expect((await call(app, `/v1/events/${posts.humanTopLevel.id}/replies`)).body.items).toEqual([]);
    expect((await call(app, `/v1/events/${posts.humanTopLevel.id}/thread`)).body.items).toEqual([]);
    expect((await call(app, `/v1/events/${posts.humanTopLevel.id}/reactions`)).body).toMatchObject({ up: 0, down: 1, total: 2 });
    const zaps = await call(app, `/v1/events/${posts.aiTopLevel.id}/zaps`);
    expect(zaps.body.items.map((z: any) => z.receipt_id)).not.toContain(expiredZap.id);
    expect(zaps.body).toMatchObject({ zap_count: 1, zap_msat: '1000000' });
    const feed = await call(app, '/v1/feed?subclaw=ai&limit=100');
    expect(feed.body.items.find((p: any) => p.id === posts.aiTopLevel.id).stats).toMatchObject({ zap_count: 1, zap_msat: '1000000' });
    const top = await call(app, '/v1/feed?subclaw=nostr&sort=top&window=all');
    expect(top.body.items.find((p: any) => p.id === posts.humanTopLevel.id).stats).toMatchObject({ replies: 0, up: 0, down: 1, score: -1 });
  });

  it('GET /v1/profiles/:pubkey accepts hex, npub and nprofile', async () => {
    for (const ref of [pubkeys.alice, npubEncode(pubkeys.alice), nprofileEncode({ pubkey: pubkeys.alice })]) {
      const r = await call(app, `/v1/profiles/${ref}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ pubkey: pubkeys.alice, name: 'alice', display_name: 'Alice', about: 'v2', updated_at: T0 + 1000 });
    }
    expect((await call(app, `/v1/profiles/${pubkeys.agent}`)).body).toMatchObject({ display_name: 'Claw Bot', bot: true, lud16: 'clawbot@example.com' });
    expect((await call(app, `/v1/profiles/${pubkeys.stranger}`)).body).toMatchObject({ content_valid: false, name: null });
    expect((await call(app, `/v1/profiles/${pubkeys.bob}`)).status).toBe(404);
  });

  it('POST /v1/profiles/batch returns found profiles in request order and the missing pubkeys', async () => {
    const r = await post(app, '/v1/profiles/batch', { pubkeys: [npubEncode(pubkeys.agent), pubkeys.bob, pubkeys.alice, pubkeys.alice] });
    expect(r.status).toBe(200);
    expect(r.body.profiles.map((p: any) => p.pubkey)).toEqual([pubkeys.agent, pubkeys.alice]);
    expect(r.body.missing).toEqual([pubkeys.bob]);
  });

  it('GET /v1/subclaws counts live posts and replies with last activity', async () => {
    const r = await call(app, '/v1/subclaws?sort=name');
    expect(r.body.items).toEqual([
      { name: 'ai', post_count: 3, reply_count: 4, last_post_at: T0 + 70, last_activity_at: T0 + 130 },
      { name: 'bitcoin', post_count: 1, reply_count: 1, last_post_at: T0 + 30, last_activity_at: T0 + 140 },
      { name: 'nostr', post_count: 4, reply_count: 1, last_post_at: T0 + 1020, last_activity_at: T0 + 1020 },
    ]);
    expect((await call(app, '/v1/subclaws')).body.items.map((s: any) => s.name)).toEqual(['nostr', 'bitcoin', 'ai']);
    expect((await call(app, '/v1/subclaws?sort=posts')).body.items.map((s: any) => s.name)).toEqual(['nostr', 'ai', 'bitcoin']);
  });

  it('GET /v1/communities and /v1/communities/:address give the latest definition and its moderators', async () => {
    const list = await call(app, '/v1/communities');
    expect(list.body.items.map((c: any) => c.address).sort()).toEqual([communityAddress, modsAddress].sort());
    const one = await call(app, `/v1/communities/${encodeURIComponent(communityAddress)}`);
    expect(one.status).toBe(200);
    // v2 (latest) dropped the moderator.
    expect(one.body).toMatchObject({ owner: pubkeys.owner, d: 'clawstr-dev', name: 'Clawstr developers', moderators: [], post_count: 2 });
    expect(one.body.relays).toEqual(['wss://relay.example.com', 'wss://relay2.example.com']);
    const mods = await call(app, `/v1/communities/${encodeURIComponent(modsAddress)}`);
    expect(mods.body.moderators).toEqual([pubkeys.moderator]);
    const page1 = await call(app, '/v1/communities?limit=1');
    const page2 = await call(app, `/v1/communities?limit=1&cursor=${page1.body.next_cursor}`);
    expect([page1.body.items[0].address, page2.body.items[0].address]).toEqual(list.body.items.map((c: any) => c.address));
    expect((await call(app, `/v1/communities/${encodeURIComponent(`34550:${pubkeys.bob}:nope`)}`)).status).toBe(404);
  });

  it('community feeds count approvals by the owner or a current moderator only', async () => {
    const feed = (address: string, q = '') => call(app, `/v1/communities/${encodeURIComponent(address)}/feed${q}`);
    // Fixture community: the owner's approval of the 1111 post was withdrawn, the moderator was
    // removed by v2, the stranger never counts; our fresh owner approval of the kind-1 post counts.
    expect((await feed(communityAddress)).body.items.map((p: any) => [p.id, p.approved])).toEqual([[communityPosts.legacyNote.id, true]]);
    expect((await feed(communityAddress, '?approved=all')).body.items.map((p: any) => [p.id, p.approved])).toEqual([
      [communityPosts.legacyNote.id, true],
      [communityPosts.comment.id, false],
    ]);
    // Our community: the current moderator's approval counts, the stranger's does not.
    expect((await feed(modsAddress)).body.items.map((p: any) => p.id)).toEqual([modsApprovedPost.id]);
    expect((await feed(modsAddress, '?approved=all')).body.items.map((p: any) => [p.id, p.approved])).toEqual([
      [modsStrangerPost.id, false],
      [modsApprovedPost.id, true],
    ]);
    expect((await feed(`34550:${pubkeys.bob}:nope`)).status).toBe(404);
  });
});
