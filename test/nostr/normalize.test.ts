import { verifyEvent } from 'nostr-tools/pure';
import { describe, expect, it, vi } from 'vitest';
import { normalizeEvent } from '../../src/nostr/normalize/index.js';
import type { NormalizeOptions, NostrEvent } from '../../src/nostr/types.js';
import { loadCorpus } from '../fixtures/corpus.js';
import { communityAddress, FAR_FUTURE, handBuiltEvents, pubkeys, SUBCLAW_BASES, subclawUrls, T0, world } from '../fixtures/hand-built.js';

const options: NormalizeOptions = { subclawBases: SUBCLAW_BASES, verifyEmbedded: (e) => verifyEvent({ ...e }) };
const n = (e: NostrEvent) => normalizeEvent(e, options);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('normalizeEvent over whole corpora', () => {
  it('normalises every real event without throwing, and only the kind-specific field is set', () => {
    for (const e of loadCorpus()) {
      const r = n(e);
      expect(r.event).toBe(e);
      expect(r.profile !== null).toBe(e.kind === 0);
      expect(r.reaction !== null).toBe(e.kind === 7 || e.kind === 17);
      expect(r.zap !== null).toBe(e.kind === 9735);
      expect(r.deletion !== null).toBe(e.kind === 5);
      expect(r.community_definition).toBeNull();
      expect(r.approval).toBeNull();
      expect(r.is_ai).toBe(false);
      expect(r.subclaw).toBeNull();
    }
  });
  it('corpus kind classes: ephemeral 22456, addressable 31234 with d_tag, replaceable 10002', () => {
    const byKind = (k: number) => loadCorpus().find((e) => e.kind === k) as NostrEvent;
    expect(n(byKind(22456)).kind_class).toBe('ephemeral');
    const draft = n(byKind(31234));
    expect(draft.kind_class).toBe('addressable');
    expect(draft.d_tag).toBe(byKind(31234).tags.find((t) => t[0] === 'd')?.[1]);
    expect(draft.address).toBe(`31234:${draft.event.pubkey}:${draft.d_tag}`);
    expect(n(byKind(10002))).toMatchObject({ kind_class: 'replaceable', address: `10002:${byKind(10002).pubkey}:`, d_tag: null });
    expect(n(byKind(1))).toMatchObject({ kind_class: 'regular', address: null, d_tag: null });
  });
  it('corpus kind 1: plain notes are not app posts (never top-level); replies are not threaded', () => {
    const notes = loadCorpus().filter((e) => e.kind === 1);
    const root = notes.find((e) => !e.tags.some((t) => t[0] === 'e')) as NostrEvent;
    const reply = notes.find((e) => e.tags.some((t) => t[0] === 'e')) as NostrEvent;
    expect(n(root).is_top_level).toBe(false);
    // The one top-level note is a real legacy NIP-72 post (kind 1, `a` = 34550:…:Brasil, no `e`).
    expect(notes.filter((e) => n(e).is_top_level).map((e) => e.id)).toEqual([
      '210e963d73ac178dc1ad1194b52c45c3a7283823146edc60ae4c6da7661e9e48',
    ]);
    expect(n(reply).is_top_level).toBe(false);
    expect(n(reply).root_id).toBeNull(); // NIP-10 threading is not derived here
  });
  it('a legacy NIP-72 kind-1 community post without e tags is top-level in its community', () => {
    expect(n(world.communityPosts.legacyNote)).toMatchObject({ is_top_level: true, community: communityAddress });
  });
  it('corpus expiration tags reach expires_at', () => {
    const e = loadCorpus().find((x) => x.id.startsWith('0000aa5dc3')) as NostrEvent;
    expect(n(e).expires_at).toBe(1772908750);
  });
  it('normalises every hand-built event; none is malformed except the one built to be', () => {
    const malformed = handBuiltEvents.filter((e) => n(e).malformed).map((e) => e.id);
    expect(malformed).toEqual([world.posts.malformedNoParent.id]);
  });
});

describe('normalizeEvent on the hand-built world', () => {
  it('AI top-level post in a subclaw', () => {
    expect(n(world.posts.aiTopLevel)).toEqual({
      event: world.posts.aiTopLevel,
      kind_class: 'regular',
      address: null,
      d_tag: null,
      identifier: subclawUrls.ai,
      subclaw: 'ai',
      community: null,
      root_id: subclawUrls.ai,
      parent_id: subclawUrls.ai,
      is_top_level: true,
      malformed: false,
      is_ai: true,
      expires_at: null,
      profile: null,
      reaction: null,
      zap: null,
      community_definition: null,
      approval: null,
      deletion: null,
    });
  });
  it('human reply 4 deep: subclaw inherited, not AI, not top-level', () => {
    expect(n(world.replies.depth4)).toMatchObject({
      subclaw: 'ai',
      is_ai: false,
      is_top_level: false,
      parent_id: world.replies.depth3.id,
      root_id: subclawUrls.ai,
    });
  });
  it('legacy and mixed-case subclaws', () => {
    expect(n(world.posts.legacyHashtag).subclaw).toBe('bitcoin');
    expect(n(world.posts.mixedCaseUrl).subclaw).toBe('nostr');
    expect(n(world.posts.humanTopLevel).subclaw).toBe('nostr');
  });
  it('subclaw bases come from the options', () => {
    expect(normalizeEvent(world.posts.aiTopLevel, { ...options, subclawBases: ['other.example'] }).subclaw).toBeNull();
    expect(normalizeEvent(world.posts.legacyHashtag, { ...options, subclawBases: [] }).subclaw).toBe('bitcoin');
  });
  it('community posts: kind 1111 and legacy kind 1', () => {
    expect(n(world.communityPosts.comment)).toMatchObject({ community: communityAddress, is_top_level: true, subclaw: null });
    expect(n(world.communityPosts.reply)).toMatchObject({ community: communityAddress, is_top_level: false });
    expect(n(world.communityPosts.legacyNote)).toMatchObject({ community: communityAddress, is_top_level: true, root_id: null });
  });
  it('community definition and approvals', () => {
    expect(n(world.communities.v1)).toMatchObject({
      kind_class: 'addressable',
      address: communityAddress,
      d_tag: 'clawstr-dev',
      community_definition: { address: communityAddress, moderators: [pubkeys.moderator] },
    });
    expect(n(world.communities.v2).community_definition?.moderators).toEqual([]);
    expect(n(world.approvals.byModerator).approval).toMatchObject({ communities: [communityAddress], post_id: world.communityPosts.legacyNote.id });
  });
  it('profiles', () => {
    expect(n(world.profiles.aliceV2)).toMatchObject({ kind_class: 'replaceable', address: `0:${pubkeys.alice}:`, profile: { display_name: 'Alice', content_valid: true } });
    expect(n(world.profiles.agent)).toMatchObject({ is_ai: false, profile: { bot: true, display_name: 'Claw Bot' } });
    expect(n(world.profiles.invalidJson).profile?.content_valid).toBe(false);
  });
  it('reactions', () => {
    expect(n(world.reactions.bobDown).reaction).toMatchObject({ target: world.posts.humanTopLevel.id, vote: -1 });
    expect(n(world.reactions.external).reaction).toMatchObject({ target: subclawUrls.ai, target_kind: 'web' });
    // A kind-17 reaction is not a comment: no identifier / subclaw columns.
    expect(n(world.reactions.external)).toMatchObject({ identifier: null, subclaw: null, is_top_level: false });
  });
  it('deletions', () => {
    expect(n(world.deletions.ofAddress).deletion).toEqual({ event_ids: [], addresses: [`30023:${pubkeys.alice}:draft`] });
  });
  it('expiration', () => {
    expect(n(world.expiring.past).expires_at).toBe(T0 + 1060);
    expect(n(world.expiring.farFuture).expires_at).toBe(FAR_FUTURE);
    expect(n(world.expiring.nonInteger).expires_at).toBeNull();
  });
  it('zap receipts use the injected verifier, once per receipt', () => {
    const verify = vi.fn((e: NostrEvent) => verifyEvent({ ...e }));
    const z = normalizeEvent(world.zaps.receipt, { ...options, verifyEmbedded: verify });
    expect(verify).toHaveBeenCalledTimes(1);
    expect(z.zap).toMatchObject({ validity: 3, amount_msat: 1_000_000n, sender: pubkeys.zapper });
    normalizeEvent(world.posts.aiTopLevel, { ...options, verifyEmbedded: verify });
    expect(verify).toHaveBeenCalledTimes(1);
  });
});

describe('purity', () => {
  it('does not mutate its input and gives the same output twice', () => {
    for (const e of handBuiltEvents) {
      const frozen = deepFreeze(structuredClone(e));
      const a = normalizeEvent(frozen, options);
      const b = normalizeEvent(frozen, options);
      expect(a).toEqual(b);
    }
  });
});
