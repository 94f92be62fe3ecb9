/** The shared fixture world must be valid, deterministic and complete: other test files rely on it. */
import { createHash } from 'node:crypto';
import { verifyEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { handBuiltEvents, pubkeys, T0, world } from '../fixtures/hand-built.js';

describe('hand-built fixture world', () => {
  it('every event verifies with nostr-tools verifyEvent', () => {
    for (const e of handBuiltEvents) expect(verifyEvent({ ...e }), e.id).toBe(true);
    expect(verifyEvent({ ...world.zaps.request })).toBe(true);
  });
  it('ids are the same on every run (fixed keys, fixed created_at, deterministic signatures)', () => {
    expect(world.posts.aiTopLevel.id).toBe('02dcad74c7ca5313fc6352f924ac5e483e6ba25089edd5200da8ba0238815130');
    // The receipt embeds the signed request, so this also pins the request's signature.
    expect(world.zaps.receipt.id).toBe('5a121239743db1e15f1eaab42af28febed2d2a887ed2d9c4450e15f71a29826e');
    const digest = createHash('sha256').update(handBuiltEvents.map((e) => e.id).join(',')).digest('hex');
    expect(digest).toBe('2eda9d4510286bf20d1f2be50619c59243f7e65d63348a39c61e581fbcb7519e');
  });
  it('ids are unique and every named event is in the flat array', () => {
    const ids = new Set(handBuiltEvents.map((e) => e.id));
    expect(ids.size).toBe(handBuiltEvents.length);
    const { zaps, ...rest } = world;
    for (const group of Object.values(rest)) for (const e of Object.values(group)) expect(ids.has(e.id)).toBe(true);
    expect(ids.has(zaps.receipt.id) && ids.has(zaps.amountMismatch.id) && ids.has(zaps.forged.id)).toBe(true);
    expect(ids.has(zaps.request.id)).toBe(false); // requests are embedded, never published
  });
  it('chronological order except the deletion listed before its target', () => {
    const i = handBuiltEvents.indexOf(world.deletions.arrivesBeforeTarget);
    const j = handBuiltEvents.indexOf(world.posts.lateTarget);
    expect(i).toBe(j - 1);
    expect(world.deletions.arrivesBeforeTarget.created_at).toBeGreaterThan(world.posts.lateTarget.created_at);
    const others = handBuiltEvents.filter((e) => e !== world.deletions.arrivesBeforeTarget);
    for (let k = 1; k < others.length; k++) expect(others[k]!.created_at).toBeGreaterThanOrEqual(others[k - 1]!.created_at);
  });
  it('the backdated deletion is older than its target', () => {
    expect(world.deletions.backdated.created_at).toBeLessThan(world.posts.backdatedTarget.created_at);
  });
  it('the a-deletion falls between the two article versions', () => {
    expect(world.addressable.articleV1.created_at).toBeLessThanOrEqual(world.deletions.ofAddress.created_at);
    expect(world.addressable.articleV2.created_at).toBeGreaterThan(world.deletions.ofAddress.created_at);
  });
  it('community versions and approvals are in the intended order', () => {
    expect(world.approvals.byModerator.created_at).toBeGreaterThan(world.communities.v1.created_at);
    expect(world.communities.v2.created_at).toBeGreaterThan(world.approvals.byModerator.created_at);
    expect(world.approvals.byModerator.pubkey).toBe(pubkeys.moderator);
  });
  it('created_at values sit around 1_700_000_000', () => {
    for (const e of handBuiltEvents) expect(Math.abs(e.created_at - T0)).toBeLessThanOrEqual(10_000);
  });
  it('the pubkeys are distinct', () => {
    expect(new Set(Object.values(pubkeys)).size).toBe(Object.keys(pubkeys).length);
  });
});
