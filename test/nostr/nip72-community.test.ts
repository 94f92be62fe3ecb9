import { describe, expect, it } from 'vitest';
import { communityOf, isCommunityAddress, parseApproval, parseCommunityDefinition } from '../../src/nostr/normalize/nip72-community.js';
import { communityAddress, pubkeys, world } from '../fixtures/hand-built.js';

const PK = 'a'.repeat(64);
const PK2 = 'b'.repeat(64);
const ID = '1'.repeat(64);
const COMM = `34550:${PK}:dev`;

describe('parseCommunityDefinition (kind 34550)', () => {
  it('v1: d, name, description, image, one moderator, relays', () => {
    expect(parseCommunityDefinition(world.communities.v1)).toEqual({
      address: communityAddress,
      d: 'clawstr-dev',
      name: 'Clawstr developers',
      description: 'Building clawstr',
      image: 'https://example.com/community.png',
      moderators: [pubkeys.moderator],
      relays: ['wss://relay.example.com', 'wss://relay2.example.com'],
    });
  });
  it('v2 removes the moderator; same address', () => {
    const v2 = parseCommunityDefinition(world.communities.v2);
    expect(v2.moderators).toEqual([]);
    expect(v2.address).toBe(communityAddress);
  });
  it('moderators: only p tags marked "moderator" at index 3, lowercase hex, deduped', () => {
    const def = parseCommunityDefinition({
      pubkey: PK,
      tags: [
        ['d', 'x'],
        ['p', PK2, '', 'moderator'],
        ['p', PK2, 'wss://r', 'moderator'], // duplicate
        ['p', 'c'.repeat(64)], // no marker: a mention
        ['p', 'd'.repeat(64), 'moderator'], // marker at the wrong index
        ['p', 'E'.repeat(64), '', 'moderator'], // uppercase: not a pubkey
        ['p', 'abc', '', 'moderator'], // short
        ['p', 'f'.repeat(64), '', 'Moderator'], // marker is exact
        ['p', PK, '', 'moderator'],
      ],
    });
    expect(def.moderators).toEqual([PK2, PK]);
  });
  it('no d tag: d = "" and the address ends in ":"', () => {
    expect(parseCommunityDefinition({ pubkey: PK, tags: [] })).toMatchObject({ d: '', address: `34550:${PK}:`, name: null, description: null, image: null, relays: [] });
  });
  it('relays: deduped, empty values dropped', () => {
    const def = parseCommunityDefinition({ pubkey: PK, tags: [['relay', 'wss://a'], ['relay', ''], ['relay', 'wss://a', 'approvals'], ['relay', 'wss://b']] });
    expect(def.relays).toEqual(['wss://a', 'wss://b']);
  });
});

describe('parseApproval (kind 4550)', () => {
  it('hand-built approvals by owner, moderator and stranger all parse the same way', () => {
    expect(parseApproval(world.approvals.byOwner)).toEqual({
      communities: [communityAddress],
      post_id: world.communityPosts.comment.id,
      post_address: null,
      post_pubkey: pubkeys.alice,
      post_kind: 1111,
    });
    expect(parseApproval(world.approvals.byModerator)).toMatchObject({ post_id: world.communityPosts.legacyNote.id, post_kind: 1 });
    expect(parseApproval(world.approvals.byStranger).communities).toEqual([communityAddress]);
  });
  it('several community a tags; a non-community a is the approved post', () => {
    const other = `34550:${PK2}:other`;
    const post = `30023:${PK2}:article`;
    expect(parseApproval({ tags: [['a', COMM], ['a', post], ['a', other], ['a', COMM], ['p', PK2], ['k', '30023']] })).toEqual({
      communities: [COMM, other],
      post_id: null,
      post_address: post,
      post_pubkey: PK2,
      post_kind: 30023,
    });
  });
  it('both e and a: both kept', () => {
    const post = `30023:${PK2}:article`;
    expect(parseApproval({ tags: [['a', COMM], ['e', ID], ['a', post]] })).toMatchObject({ post_id: ID, post_address: post });
  });
  it('malformed values are absent; k must be an integer', () => {
    expect(parseApproval({ tags: [['a', '34550:nothex:x'], ['e', 'xyz'], ['p', 'P'], ['k', 'one']] })).toEqual({
      communities: [],
      post_id: null,
      post_address: null,
      post_pubkey: null,
      post_kind: null,
    });
    expect(parseApproval({ tags: [['k', '1.5']] }).post_kind).toBeNull();
  });
});

describe('communityOf (which community a post belongs to)', () => {
  it('kind 1111 with A = community and K = 34550', () => {
    expect(communityOf(world.communityPosts.comment)).toBe(communityAddress);
    expect(communityOf(world.communityPosts.reply)).toBe(communityAddress);
  });
  it('legacy kind 1 with a lowercase community a', () => {
    expect(communityOf(world.communityPosts.legacyNote)).toBe(communityAddress);
  });
  it('kind 1111 needs K = 34550', () => {
    expect(communityOf({ kind: 1111, tags: [['A', COMM], ['K', '30023'], ['a', COMM], ['k', '34550']] })).toBeNull();
    expect(communityOf({ kind: 1111, tags: [['A', COMM]] })).toBeNull();
  });
  it('kind 1111 with only a lowercase community a is not a community post', () => {
    expect(communityOf({ kind: 1111, tags: [['I', 'https://x.com'], ['K', 'web'], ['a', COMM], ['k', '34550']] })).toBeNull();
  });
  it('kind 1111 whose A is another addressable kind is not a community post', () => {
    expect(communityOf({ kind: 1111, tags: [['A', `30023:${PK}:x`], ['K', '34550']] })).toBeNull();
  });
  it('kind 1: the first community a; other a tags ignored', () => {
    const other = `34550:${PK2}:two`;
    expect(communityOf({ kind: 1, tags: [['a', `30023:${PK}:x`], ['a', COMM], ['a', other]] })).toBe(COMM);
    expect(communityOf({ kind: 1, tags: [['a', `30023:${PK}:x`]] })).toBeNull();
  });
  it('other kinds and subclaw posts: null', () => {
    expect(communityOf({ kind: 7, tags: [['a', COMM]] })).toBeNull();
    expect(communityOf(world.posts.aiTopLevel)).toBeNull();
  });
  it('isCommunityAddress checks the kind and the pubkey shape', () => {
    expect(isCommunityAddress(COMM)).toBe(true);
    expect(isCommunityAddress(`34550:${PK}:`)).toBe(true);
    expect(isCommunityAddress(`34551:${PK}:x`)).toBe(false);
    expect(isCommunityAddress('34550:abc:x')).toBe(false);
    expect(isCommunityAddress(`34550:${PK}`)).toBe(false);
  });
});
