import { describe, expect, it } from 'vitest';
import { parseComment, subclawOf } from '../../src/nostr/normalize/nip22-comment.js';
import { communityAddress, pubkeys, SUBCLAW_BASES, subclawUrls, world } from '../fixtures/hand-built.js';

const ID1 = '1'.repeat(64);
const ID2 = '2'.repeat(64);
const PK = 'a'.repeat(64);
const ADDR = `30023:${PK}:article`;
const c = (...tags: string[][]) => parseComment({ tags }, SUBCLAW_BASES);

describe('parseComment: root and parent (NIP-22)', () => {
  it('top-level on an external id: I = i, K = k', () => {
    expect(parseComment(world.posts.aiTopLevel, SUBCLAW_BASES)).toEqual({
      root_id: subclawUrls.ai,
      parent_id: subclawUrls.ai,
      root_kind: 'web',
      parent_kind: 'web',
      identifier: subclawUrls.ai,
      subclaw: 'ai',
      is_top_level: true,
      malformed: false,
    });
  });
  it('reply to a comment: parent = e, k = 1111, not top-level, subclaw from the root I', () => {
    const r = parseComment(world.replies.depth1, SUBCLAW_BASES);
    expect(r.root_id).toBe(subclawUrls.ai);
    expect(r.parent_id).toBe(world.posts.aiTopLevel.id);
    expect(r.parent_kind).toBe('1111');
    expect(r.is_top_level).toBe(false);
    expect(r.malformed).toBe(false);
    expect(r.subclaw).toBe('ai');
    expect(r.identifier).toBe(subclawUrls.ai);
  });
  it('replies 2-4 deep each point at their own parent', () => {
    const { depth1, depth2, depth3, depth4 } = world.replies;
    expect(parseComment(depth2, SUBCLAW_BASES).parent_id).toBe(depth1.id);
    expect(parseComment(depth3, SUBCLAW_BASES).parent_id).toBe(depth2.id);
    expect(parseComment(depth4, SUBCLAW_BASES).parent_id).toBe(depth3.id);
    for (const r of [depth2, depth3, depth4]) {
      expect(parseComment(r, SUBCLAW_BASES)).toMatchObject({ root_id: subclawUrls.ai, subclaw: 'ai', is_top_level: false });
    }
  });
  it('q tags are quotes, never the parent (even when listed first)', () => {
    const r = parseComment(world.replies.depth3, SUBCLAW_BASES);
    expect(world.replies.depth3.tags[0]?.[0]).toBe('q');
    expect(r.parent_id).toBe(world.replies.depth2.id);
    expect(c(['I', 'https://x.com/'], ['K', 'web'], ['q', ID1])).toMatchObject({ parent_id: null, malformed: true });
  });
  it('root on an event: E with pubkey at index 3; top-level when e = E and k = K', () => {
    expect(c(['E', ID1, '', PK], ['K', '1063'], ['P', PK], ['e', ID1, '', PK], ['k', '1063'], ['p', PK])).toMatchObject({
      root_id: ID1,
      parent_id: ID1,
      is_top_level: true,
      identifier: null,
      subclaw: null,
    });
  });
  it('reply on an event root: e = parent comment, k = 1111', () => {
    expect(c(['E', ID1], ['K', '1063'], ['e', ID2], ['k', '1111'])).toMatchObject({
      root_id: ID1,
      parent_id: ID2,
      is_top_level: false,
    });
  });
  it('root on an address: A; the top-level comment may also carry the version e (parent_id = first e)', () => {
    const r = c(['A', ADDR], ['K', '30023'], ['P', PK], ['a', ADDR], ['e', ID1], ['k', '30023'], ['p', PK]);
    expect(r).toMatchObject({ root_id: ADDR, parent_id: ID1, is_top_level: true, malformed: false });
  });
  it('root_id prefers E, then A, then I', () => {
    expect(c(['I', 'https://x.com/'], ['A', ADDR], ['E', ID1], ['e', ID1]).root_id).toBe(ID1);
    expect(c(['I', 'https://x.com/'], ['A', ADDR], ['a', ADDR]).root_id).toBe(ADDR);
  });
  it('parent_id prefers the first e, then a, then i', () => {
    expect(c(['E', ID1], ['i', 'https://x.com/'], ['a', ADDR], ['e', ID2], ['e', ID1]).parent_id).toBe(ID2);
    expect(c(['E', ID1], ['i', 'https://x.com/'], ['a', ADDR]).parent_id).toBe(ADDR);
    expect(c(['E', ID1], ['i', 'HTTPS://X.com/#f']).parent_id).toBe('https://x.com/');
  });
  it('same value but k != K is not top-level', () => {
    expect(c(['E', ID1], ['K', '1'], ['e', ID1], ['k', '1111']).is_top_level).toBe(false);
  });
  it('same value with one kind tag missing is top-level', () => {
    expect(c(['I', 'https://x.com/a'], ['K', 'web'], ['i', 'https://x.com/a']).is_top_level).toBe(true);
  });
  it('root and parent are compared in canonical form', () => {
    expect(c(['I', 'https://X.com/a'], ['K', 'web'], ['i', 'https://x.COM/a#frag'], ['k', 'web']).is_top_level).toBe(true);
  });
  it('no lowercase parent tag at all: top-level, flagged malformed', () => {
    expect(parseComment(world.posts.malformedNoParent, SUBCLAW_BASES)).toMatchObject({
      root_id: subclawUrls.ai,
      parent_id: null,
      is_top_level: true,
      malformed: true,
      subclaw: 'ai',
    });
  });
  it('no root scope at all: malformed and not top-level', () => {
    expect(c(['e', ID1], ['k', '1111'])).toMatchObject({ root_id: null, parent_id: ID1, is_top_level: false, malformed: true });
    expect(c()).toMatchObject({ root_id: null, parent_id: null, is_top_level: false, malformed: true });
  });
  it('ids that are not 64-char lowercase hex are treated as absent', () => {
    expect(c(['E', 'AB'.repeat(32)], ['e', 'abc']).root_id).toBeNull();
    expect(c(['E', ID1], ['e', 'A'.repeat(64)])).toMatchObject({ parent_id: null, is_top_level: true, malformed: true });
    expect(c(['E', 'nothex'], ['E', ID2], ['e', ID2]).root_id).toBe(ID2); // first VALID E
  });
  it('addresses must be kind:hexpubkey:d', () => {
    expect(c(['A', '30023:nothex:x'], ['a', ADDR]).root_id).toBeNull();
    expect(c(['A', `x:${PK}:d`]).root_id).toBeNull();
  });
  it('an empty I is absent', () => {
    expect(c(['I', '  '], ['i', 'https://x.com/']).root_id).toBeNull();
  });
});

describe('identifier and subclaw', () => {
  it('identifier = canonical I, else i', () => {
    expect(c(['I', 'HTTPS://Example.com/x#y'], ['i', 'https://other.com/']).identifier).toBe('https://example.com/x');
    expect(c(['E', ID1], ['i', 'ISBN:978-0-7653-8203-0']).identifier).toBe('isbn:9780765382030');
  });
  it('mixed-case host, name and trailing slash map to the lowercase subclaw', () => {
    expect(parseComment(world.posts.mixedCaseUrl, SUBCLAW_BASES)).toMatchObject({
      identifier: 'https://clawstr.com/c/Nostr/',
      subclaw: 'nostr',
      is_top_level: true,
    });
  });
  it('legacy ["I","#name"] with K "#": same subclaw, replies too', () => {
    expect(parseComment(world.posts.legacyHashtag, SUBCLAW_BASES)).toMatchObject({ identifier: '#bitcoin', subclaw: 'bitcoin', is_top_level: true });
    expect(parseComment(world.replies.legacyReply, SUBCLAW_BASES)).toMatchObject({ subclaw: 'bitcoin', is_top_level: false });
  });
  it('community comments have no subclaw', () => {
    expect(parseComment(world.communityPosts.comment, SUBCLAW_BASES)).toMatchObject({
      root_id: communityAddress,
      parent_id: communityAddress,
      is_top_level: true,
      subclaw: null,
      identifier: null,
    });
    expect(parseComment(world.communityPosts.reply, SUBCLAW_BASES)).toMatchObject({ root_id: communityAddress, is_top_level: false });
    expect(pubkeys.owner).toHaveLength(64);
  });
  it.each([
    ['https://clawstr.com/c/ai', 'web', 'ai'],
    ['https://clawstr.com/c/ai/', 'web', 'ai'],
    ['https://clawstr.com/c/My_Sub-1', 'web', 'my_sub-1'],
    ['https://CLAWSTR.COM/C/AI', 'web', 'ai'], // matched case-insensitively
    ['https://clawstr.com/c/ai/post/1', 'web', null],
    ['https://clawstr.com/c/', 'web', null],
    ['https://clawstr.com/c/a.b', 'web', null],
    ['https://clawstr.com/c/ai?sort=new', 'web', null],
    ['http://clawstr.com/c/ai', 'web', null], // https only
    ['https://www.clawstr.com/c/ai', 'web', null], // not a configured base
    ['https://clawstr.com.evil.com/c/ai', 'web', null],
    ['https://evilclawstr.com/c/ai', 'web', null],
    ['#bitcoin', '#', 'bitcoin'],
    ['#bitcoin', 'web', null], // legacy form needs K = '#'
    ['#two words', '#', null],
    ['#', '#', null],
  ])('subclawOf(%j, K=%j) = %j', (identifier, kind, expected) => {
    expect(subclawOf(identifier, kind, SUBCLAW_BASES)).toBe(expected);
  });
  it('bases are configuration', () => {
    const bases = ['clawstr.com', 'claw.example.org'];
    expect(subclawOf('https://claw.example.org/c/x', 'web', bases)).toBe('x');
    expect(subclawOf('https://claw.example.org/c/x', 'web', ['clawstr.com'])).toBeNull();
    expect(subclawOf('https://clawstr.com/c/x', 'web', [])).toBeNull();
    expect(subclawOf('https://clawsTRcom/c/x', 'web', ['clawstr.com'])).toBeNull(); // '.' is literal
    expect(subclawOf('#x', '#', [])).toBe('x'); // the legacy form does not depend on bases
  });
  it('reply whose only identifier is the parent i: subclaw from i with k', () => {
    expect(c(['E', ID1], ['i', 'https://clawstr.com/c/ai'], ['k', 'web']).subclaw).toBe('ai');
  });
});
