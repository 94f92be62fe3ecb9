/**
 * The store applied to the hand-built clawstr world (test/fixtures/hand-built.ts): every rule of
 * NOSTR-RULES.md that the corpus lacks, checked on the stored rows, on both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { query } from '../../src/db/client.js';
import { communityAddress, handBuiltEvents, pubkeys, T0, tieLowId, world } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { storeEvents } from '../helpers/store.js';
import type { NostrEvent } from '../../src/nostr/types.js';

interface EventRow {
  event_id: string;
  subclaw: string | null;
  community: string | null;
  root_id: string | null;
  parent_id: string | null;
  is_top_level: boolean;
  is_ai: boolean;
  deleted_at: number | string | null;
  expires_at: number | string | null;
}

describe.each(engines)('hand-built world on %s', (driver) => {
  let database: TestDatabase;
  const row = async (event: NostrEvent): Promise<EventRow | undefined> =>
    (
      await query<EventRow>(
        database.db,
        sql`SELECT event_id, subclaw, community, root_id, parent_id, is_top_level, is_ai, deleted_at, expires_at
            FROM nostr_events WHERE event_id = ${event.id}`,
      )
    )[0];
  const stats = async (event: NostrEvent) =>
    (
      await query<{ replies: number; up: number; down: number; zap_count: number; zap_msat: string | number }>(
        database.db,
        sql`SELECT replies, up, down, zap_count, zap_msat FROM event_stats WHERE event_id = ${event.id}`,
      )
    ).map((s) => ({ ...s, zap_msat: Number(s.zap_msat) }))[0] ?? { replies: 0, up: 0, down: 0, zap_count: 0, zap_msat: 0 };

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    // Small batches so targets and their deletions, reactions and replies land in different transactions.
    await storeEvents(database.db, handBuiltEvents, { batchSize: 7 });
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('stores clawstr top-level posts with subclaw, root, parent and AI flag', async () => {
    const ai = await row(world.posts.aiTopLevel);
    expect(ai).toMatchObject({
      subclaw: 'ai',
      root_id: 'https://clawstr.com/c/ai',
      parent_id: 'https://clawstr.com/c/ai',
      is_top_level: true,
      is_ai: true,
    });
    expect(await row(world.posts.humanTopLevel)).toMatchObject({ subclaw: 'nostr', is_top_level: true, is_ai: false });
    // Incomplete labels (L=agent without l=ai/agent) do not make a post AI.
    expect(await row(world.posts.partialLabel)).toMatchObject({ is_ai: false });
    // Mixed-case host and name with a trailing slash is the same subclaw.
    expect(await row(world.posts.mixedCaseUrl)).toMatchObject({ subclaw: 'nostr' });
  });

  it('accepts the legacy #name subclaw form, and replies inherit the subclaw', async () => {
    expect(await row(world.posts.legacyHashtag)).toMatchObject({ subclaw: 'bitcoin', is_top_level: true });
    expect(await row(world.replies.legacyReply)).toMatchObject({
      subclaw: 'bitcoin',
      parent_id: world.posts.legacyHashtag.id,
      is_top_level: false,
    });
  });

  it('threads replies by the lowercase parent, never by a q quote', async () => {
    expect(await row(world.replies.depth1)).toMatchObject({ parent_id: world.posts.aiTopLevel.id, subclaw: 'ai', is_top_level: false });
    expect(await row(world.replies.depth2)).toMatchObject({ parent_id: world.replies.depth1.id, is_ai: true });
    expect(await row(world.replies.depth3)).toMatchObject({ parent_id: world.replies.depth2.id });
    expect(await row(world.replies.depth4)).toMatchObject({ parent_id: world.replies.depth3.id });
  });

  it('keeps the newest profile version, ties to the lowest id, and null fields for invalid JSON', async () => {
    const profiles = await query<Record<string, unknown>>(
      database.db,
      sql`SELECT pubkey, name, display_name, about, nip05, bot, lud16, content_valid, event_id, updated_at FROM nostr_profiles`,
    );
    const of = (pk: string) => profiles.find((p) => p.pubkey === pk);
    expect(of(pubkeys.alice)).toMatchObject({ name: 'alice', display_name: 'Alice', about: 'v2', event_id: world.profiles.aliceV2.id });
    expect(Number(of(pubkeys.alice)?.updated_at)).toBe(T0 + 1000);
    expect(of(pubkeys.carol)).toMatchObject({ event_id: tieLowId });
    expect(of(pubkeys.agent)).toMatchObject({ display_name: 'Claw Bot', bot: true, lud16: 'clawbot@example.com' });
    expect(of(pubkeys.stranger)).toMatchObject({ name: null, content_valid: false });
    // Only the winning version of a replaceable event is stored.
    expect(await row(world.profiles.aliceV1)).toBeUndefined();
  });

  it('counts one vote per reactor and target: latest wins, emoji is 0, empty is +, deleted stops counting', async () => {
    // aiTopLevel: bob '+' and alice '' (empty = '+'); 1 reply (depth1); the valid 1,000,000 msat zap.
    expect(await stats(world.posts.aiTopLevel)).toEqual({ replies: 1, up: 2, down: 0, zap_count: 1, zap_msat: 1_000_000 });
    // humanTopLevel: bob '+' then '-' (the later -1 wins), carol's emoji counts 0; the forged zap (validity 0) does not count.
    expect(await stats(world.posts.humanTopLevel)).toEqual({ replies: 0, up: 0, down: 1, zap_count: 0, zap_msat: 0 });
    // depth1: carol's '+' was deleted by carol; one reply (depth2).
    expect(await stats(world.replies.depth1)).toEqual({ replies: 1, up: 0, down: 0, zap_count: 0, zap_msat: 0 });
    // depth2: carol's reaction with several e tags targets the LAST e (depth2); alice's :claw: is 0.
    expect(await stats(world.replies.depth2)).toEqual({ replies: 1, up: 1, down: 0, zap_count: 0, zap_msat: 0 });
    const bob = await query<{ vote: number; event_id: string }>(
      database.db,
      sql`SELECT vote, event_id FROM reactions WHERE target = ${world.posts.humanTopLevel.id} AND reactor = ${pubkeys.bob}`,
    );
    expect(bob).toEqual([{ vote: -1, event_id: world.reactions.bobDown.id }]);
    const external = await query<{ target: string; vote: number }>(
      database.db,
      sql`SELECT target, vote FROM reactions WHERE event_id = ${world.reactions.external.id}`,
    );
    expect(external).toEqual([{ target: 'https://clawstr.com/c/ai', vote: 1 }]);
  });

  it('grades zap receipts instead of dropping them', async () => {
    const zaps = await query<{ receipt_id: string; validity: number; amount_msat: string | number; sender: string; sender_verified: boolean }>(
      database.db,
      sql`SELECT receipt_id, validity, amount_msat, sender, sender_verified FROM zaps ORDER BY receipt_id`,
    );
    const of = (e: NostrEvent) => zaps.find((z) => z.receipt_id === e.id);
    expect(of(world.zaps.receipt)).toMatchObject({ validity: 3, sender: pubkeys.zapper, sender_verified: true });
    expect(Number(of(world.zaps.receipt)?.amount_msat)).toBe(1_000_000);
    expect(of(world.zaps.amountMismatch)).toMatchObject({ validity: 1 });
    expect(Number(of(world.zaps.amountMismatch)?.amount_msat)).toBe(2_000_000);
    // The tampered request does not verify: the P tag is only a hint.
    expect(of(world.zaps.forged)).toMatchObject({ validity: 0, sender: pubkeys.zapper, sender_verified: false });
  });

  it('applies deletions only by the author, before or after arrival, and keeps replies of deleted posts', async () => {
    expect(Number((await row(world.posts.toBeDeleted))?.deleted_at)).toBe(T0 + 600);
    expect((await row(world.replies.underDeletedPost))?.deleted_at).toBeNull();
    expect(Number((await row(world.reactions.toBeDeleted))?.deleted_at)).toBe(T0 + 610);
    // The deletion arrived before its target: the target is stored deleted, not resurrected.
    expect(Number((await row(world.posts.lateTarget))?.deleted_at)).toBe(T0 + 850);
    // NIP-09 puts no time condition on `e` deletions.
    expect(Number((await row(world.posts.backdatedTarget))?.deleted_at)).toBe(T0 + 890);
    // A stranger cannot delete alice's post or article.
    expect((await row(world.posts.humanTopLevel))?.deleted_at).toBeNull();
    // `a` deletion: v1 (older than the deletion) is gone; v2 (newer) is the live winner.
    expect(await row(world.addressable.articleV1)).toBeUndefined();
    expect((await row(world.addressable.articleV2))?.deleted_at).toBeNull();
    // A deletion of a deletion has no effect; deletions themselves are never marked deleted.
    const deletedDeletions = await query<{ n: number | string }>(
      database.db,
      sql`SELECT count(*) AS n FROM nostr_events WHERE kind = 5 AND deleted_at IS NOT NULL`,
    );
    expect(Number(deletedDeletions[0]?.n)).toBe(0);
  });

  it('keeps the latest community definition and decides approvals by its owner and moderators', async () => {
    const community = await query<{ event_id: string; owner: string; name: string }>(
      database.db,
      sql`SELECT event_id, owner, name FROM communities WHERE address = ${communityAddress}`,
    );
    expect(community).toEqual([{ event_id: world.communities.v2.id, owner: pubkeys.owner, name: 'Clawstr developers' }]);
    // v2 removed the moderator.
    const moderators = await query<{ pubkey: string }>(database.db, sql`SELECT pubkey FROM community_moderators`);
    expect(moderators).toEqual([]);
    expect(await row(world.communityPosts.comment)).toMatchObject({ community: communityAddress, is_top_level: true });
    expect(await row(world.communityPosts.legacyNote)).toMatchObject({ community: communityAddress, is_top_level: true });
    expect(await row(world.communityPosts.reply)).toMatchObject({ community: communityAddress, is_top_level: false });
    // The owner's approval was withdrawn by kind 5; the moderator's stopped counting with v2; the stranger's never did.
    const approvals = await query<{ approval_id: string; counts: boolean }>(
      database.db,
      sql`SELECT a.approval_id,
                 (a.approver = c.owner OR EXISTS (SELECT 1 FROM community_moderators m
                    WHERE m.address = a.community AND m.pubkey = a.approver)) AS counts
          FROM community_approvals a JOIN communities c ON c.address = a.community ORDER BY a.created_at`,
    );
    expect(approvals).toEqual([
      { approval_id: world.approvals.byModerator.id, counts: false },
      { approval_id: world.approvals.byStranger.id, counts: false },
    ]);
  });

  it('stores expiration, ignoring a non-integer value', async () => {
    expect(Number((await row(world.expiring.farFuture))?.expires_at)).toBe(4_102_444_800);
    expect((await row(world.expiring.nonInteger))?.expires_at).toBeNull();
  });
});

describe.each(engines)('community moderation over time on %s', (driver) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  const countingApprovals = async () =>
    (
      await query<{ approval_id: string }>(
        database.db,
        sql`SELECT a.approval_id FROM community_approvals a JOIN communities c ON c.address = a.community
            WHERE a.approver = c.owner OR EXISTS (SELECT 1 FROM community_moderators m
              WHERE m.address = a.community AND m.pubkey = a.approver)
            ORDER BY a.approval_id`,
      )
    ).map((r) => r.approval_id);

  it('counts a moderator approval under v1 and drops it when v2 removes the moderator', async () => {
    await storeEvents(database.db, [world.communities.v1, world.communityPosts.comment, world.communityPosts.legacyNote]);
    await storeEvents(database.db, [world.approvals.byOwner, world.approvals.byModerator, world.approvals.byStranger]);
    expect(await countingApprovals()).toEqual([world.approvals.byOwner.id, world.approvals.byModerator.id].sort());
    await storeEvents(database.db, [world.communities.v2]);
    expect(await countingApprovals()).toEqual([world.approvals.byOwner.id]);
    // An older definition arriving late never overwrites the newer one.
    await storeEvents(database.db, [world.communities.v1]);
    expect(await countingApprovals()).toEqual([world.approvals.byOwner.id]);
    await storeEvents(database.db, [world.deletions.ofApproval]);
    expect(await countingApprovals()).toEqual([]);
  });
});
