import { describe, expect, it } from 'vitest';
import { compareReplaceable, dTagOf, eventAddress, kindClass, replacesCurrent } from '../../src/nostr/kinds.js';
import { corpusEvent, corpusOfKind } from '../fixtures/corpus.js';
import { pubkeys, tieHighId, tieLowId, world } from '../fixtures/hand-built.js';

const PK = 'a'.repeat(64);

describe('kindClass (NIP-01 kind ranges)', () => {
  it.each([
    [0, 'replaceable'],
    [3, 'replaceable'],
    [10000, 'replaceable'],
    [10002, 'replaceable'],
    [19999, 'replaceable'],
    [20000, 'ephemeral'],
    [22242, 'ephemeral'],
    [29999, 'ephemeral'],
    [30000, 'addressable'],
    [34550, 'addressable'],
    [39999, 'addressable'],
    [1, 'regular'],
    [2, 'regular'],
    [5, 'regular'],
    [7, 'regular'],
    [1111, 'regular'],
    [4550, 'regular'],
    [9735, 'regular'],
    [9999, 'regular'],
    [40000, 'regular'],
    [65535, 'regular'],
  ] as const)('kind %i is %s', (kind, cls) => {
    expect(kindClass(kind)).toBe(cls);
  });
});

describe('eventAddress', () => {
  it('addressable: kind:pubkey:d with the first d value', () => {
    expect(eventAddress({ kind: 30023, pubkey: PK, tags: [['d', 'one'], ['d', 'two']] })).toBe(`30023:${PK}:one`);
  });
  it('addressable without a d tag: d = ""', () => {
    expect(eventAddress({ kind: 30023, pubkey: PK, tags: [['t', 'x']] })).toBe(`30023:${PK}:`);
  });
  it('addressable with a bare ["d"] tag: d = ""', () => {
    expect(dTagOf({ tags: [['d']] })).toBe('');
    expect(eventAddress({ kind: 30000, pubkey: PK, tags: [['d']] })).toBe(`30000:${PK}:`);
  });
  it('d values keep colons and case', () => {
    expect(eventAddress({ kind: 30000, pubkey: PK, tags: [['d', 'A:b:C']] })).toBe(`30000:${PK}:A:b:C`);
  });
  it('replaceable: kind:pubkey: (d ignored)', () => {
    expect(eventAddress({ kind: 0, pubkey: PK, tags: [['d', 'x']] })).toBe(`0:${PK}:`);
    expect(eventAddress({ kind: 10002, pubkey: PK, tags: [] })).toBe(`10002:${PK}:`);
  });
  it('regular and ephemeral: null', () => {
    expect(eventAddress({ kind: 1, pubkey: PK, tags: [['d', 'x']] })).toBeNull();
    expect(eventAddress({ kind: 20001, pubkey: PK, tags: [] })).toBeNull();
  });
  it('real addressable events from the corpus (kind 31234 drafts)', () => {
    const deletion = corpusOfKind(5).find((e) => e.tags.some((t) => t[0] === 'a'));
    if (!deletion) throw new Error('corpus has no kind 5 with an a tag');
    const a = deletion.tags.find((t) => t[0] === 'a')?.[1] as string;
    const [, pubkey, d] = a.split(':');
    // The deletion's coordinate names the same key eventAddress would compute for the target.
    expect(eventAddress({ kind: 31234, pubkey: pubkey as string, tags: [['d', d as string]] })).toBe(a);
  });
  it('hand-built community address', () => {
    expect(eventAddress(world.communities.v1)).toBe(`34550:${pubkeys.owner}:clawstr-dev`);
    expect(eventAddress(world.communities.v2)).toBe(eventAddress(world.communities.v1));
  });
});

describe('compareReplaceable (newest wins, ties lowest id)', () => {
  const older = { created_at: 100, id: 'f'.repeat(64) };
  const newer = { created_at: 200, id: '0'.repeat(64) };
  it('newer created_at wins whatever the ids', () => {
    expect(compareReplaceable(newer, older)).toBeLessThan(0);
    expect(compareReplaceable(older, newer)).toBeGreaterThan(0);
    expect(replacesCurrent(newer, older)).toBe(true);
    expect(replacesCurrent(older, newer)).toBe(false);
  });
  it('tie on created_at: lowest id wins', () => {
    const low = { created_at: 100, id: '1'.repeat(64) };
    const high = { created_at: 100, id: '2'.repeat(64) };
    expect(compareReplaceable(low, high)).toBeLessThan(0);
    expect(replacesCurrent(high, low)).toBe(false);
    expect(replacesCurrent(low, high)).toBe(true);
  });
  it('the same event does not replace itself', () => {
    expect(compareReplaceable(older, { ...older })).toBe(0);
    expect(replacesCurrent(older, { ...older })).toBe(false);
  });
  it('sorting any arrival order yields the same winner', () => {
    const v0 = { created_at: 5, id: 'c'.repeat(64) };
    const v1 = { created_at: 9, id: 'b'.repeat(64) };
    const v2 = { created_at: 9, id: 'a'.repeat(64) };
    const v3 = { created_at: 1, id: '0'.repeat(64) };
    const versions = [v0, v1, v2, v3];
    for (const order of [versions, [...versions].reverse(), [v2, v0, v3, v1]]) {
      expect([...order].sort(compareReplaceable)[0]?.id).toBe('a'.repeat(64));
    }
  });
  it('real kind-0 versions from the corpus: jb -> jb55 (4 s later) wins', () => {
    const v1 = corpusEvent('1550ff0e62ef2b3872375cb522dd7c31137b395cc82ab70f7184369a88a2ff57');
    const v2 = corpusEvent('bbc63aa1c5931fa77c89bba4c806a720454dd0e101143b3a446f28383661f1c6');
    expect(v1.pubkey).toBe(v2.pubkey);
    expect(replacesCurrent(v2, v1)).toBe(true);
    expect(replacesCurrent(v1, v2)).toBe(false); // an older version arriving later never overwrites
  });
  it('hand-built tie: same created_at, lowest id wins', () => {
    const { tieA, tieB } = world.profiles;
    expect(tieA.created_at).toBe(tieB.created_at);
    expect(tieA.id).not.toBe(tieB.id);
    const winner = [tieA, tieB].sort(compareReplaceable)[0];
    expect(winner?.id).toBe(tieLowId);
    expect([tieB, tieA].sort(compareReplaceable)[1]?.id).toBe(tieHighId);
  });
});
