import { describe, expect, it } from 'vitest';
import { parseReaction, voteOf } from '../../src/nostr/normalize/nip25-reaction.js';
import { corpusEvent, corpusOfKind } from '../fixtures/corpus.js';
import { world } from '../fixtures/hand-built.js';

const ID1 = '1'.repeat(64);
const ID2 = '2'.repeat(64);
const PK1 = 'a'.repeat(64);
const PK2 = 'b'.repeat(64);

describe('voteOf (NIP-25)', () => {
  it.each([
    ['+', 1],
    ['', 1],
    ['-', -1],
    ['🤙', 0],
    [':soapbox:', 0],
    ['++', 0],
    [' +', 0],
    ['like', 0],
  ] as const)('%j -> %i', (content, vote) => {
    expect(voteOf(content)).toBe(vote);
  });
});

describe('parseReaction kind 7 on real events', () => {
  it('every corpus reaction has a target', () => {
    const all = corpusOfKind(7);
    expect(all.length).toBe(355);
    for (const e of all) expect(parseReaction(e).target).toMatch(/^[0-9a-f]{64}$/);
  });
  it('several e and p tags: the LAST e is the target, the last p its author', () => {
    const e = corpusEvent('0c2d97aa02b34030d6f529468519f7cf21543c4659d2bd14238f9a62adcd3cb5');
    expect(parseReaction(e)).toEqual({
      target: '4141c6bf801de95d69d2bfbf1e91043df3a032a08db9f4a84e8dd61cdaaba088',
      target_pubkey: '3f770d65d3a764a9c5cb503ae123e62ec7598ad035d836e2a810f3877a745b24',
      target_address: null,
      target_kind: null,
      vote: 0,
      emoji: '🤙',
    });
  });
  it('empty content is an upvote shown as +', () => {
    const r = parseReaction(corpusEvent('3d9679011367e79f7f4bbf359cefbad2ac28105bd4fac83fdc310efca595c1a0'));
    expect(r.vote).toBe(1);
    expect(r.emoji).toBe('+');
  });
  it('custom emoji :shortcode: is a reaction with vote 0', () => {
    const r = parseReaction(corpusEvent('a8e656e3f88c1a4a3fd58c7858468c84cd1f847963c2a7449f9c1c2e155ece99'));
    expect(r).toMatchObject({ vote: 0, emoji: ':bruh:' });
  });
  it('plus reactions from the corpus are +1', () => {
    const plus = corpusOfKind(7).filter((e) => e.content === '+');
    expect(plus.length).toBe(160);
    for (const e of plus) expect(parseReaction(e).vote).toBe(1);
  });
});

describe('parseReaction kind 7 rules', () => {
  it('hand-built multi-e reaction targets depth2', () => {
    expect(parseReaction(world.reactions.multiE)).toMatchObject({
      target: world.replies.depth2.id,
      target_pubkey: world.replies.depth2.pubkey,
      target_kind: '1111',
      vote: 1,
    });
  });
  it('up then down by one reactor: each event keeps its own vote (the store keeps the latest)', () => {
    expect(parseReaction(world.reactions.bobUp)).toMatchObject({ target: world.posts.humanTopLevel.id, vote: 1 });
    expect(parseReaction(world.reactions.bobDown)).toMatchObject({ target: world.posts.humanTopLevel.id, vote: -1, emoji: '-' });
  });
  it('emoji and empty hand-built reactions', () => {
    expect(parseReaction(world.reactions.emoji)).toMatchObject({ vote: 0, emoji: '🤙' });
    expect(parseReaction(world.reactions.emptyContent)).toMatchObject({ vote: 1, emoji: '+' });
    expect(parseReaction(world.reactions.shortcode)).toMatchObject({ vote: 0, emoji: ':claw:' });
  });
  it('an a tag is kept alongside the e target', () => {
    const a = `30023:${PK1}:post`;
    expect(parseReaction({ kind: 7, content: '+', tags: [['e', ID1], ['a', a], ['p', PK1], ['k', '30023']] })).toMatchObject({
      target: ID1,
      target_address: a,
      target_kind: '30023',
    });
  });
  it('invalid hex e/p values are skipped: the last VALID one counts', () => {
    const r = parseReaction({ kind: 7, content: '+', tags: [['e', ID1], ['e', 'AB'.repeat(32)], ['e', ID2.slice(1)], ['p', PK1], ['p', 'xyz']] });
    expect(r.target).toBe(ID1);
    expect(r.target_pubkey).toBe(PK1);
  });
  it('no e tag: target null (still a reaction)', () => {
    expect(parseReaction({ kind: 7, content: '+', tags: [['p', PK2]] })).toMatchObject({ target: null, target_pubkey: PK2, vote: 1 });
  });
});

describe('parseReaction kind 17 (external content)', () => {
  it('target = canonical last i, target_kind = k', () => {
    expect(parseReaction(world.reactions.external)).toEqual({
      target: 'https://clawstr.com/c/ai',
      target_pubkey: null,
      target_address: null,
      target_kind: 'web',
      vote: 1,
      emoji: '+',
    });
  });
  it('the last i wins', () => {
    const r = parseReaction({ kind: 17, content: '-', tags: [['i', '#one'], ['k', '#'], ['i', '#TWO']] });
    expect(r).toMatchObject({ target: '#two', target_kind: '#', vote: -1 });
  });
  it('earlier NIP-25 form with an r tag: read as a web id', () => {
    expect(parseReaction({ kind: 17, content: '⭐', tags: [['r', 'HTTPS://Example.com/page#s']] })).toMatchObject({
      target: 'https://example.com/page',
      target_kind: 'web',
      vote: 0,
    });
  });
  it('e tags do not make a kind-17 target', () => {
    expect(parseReaction({ kind: 17, content: '+', tags: [['e', ID1]] }).target).toBeNull();
  });
});
