import { describe, expect, it } from 'vitest';
import { parseDeletion } from '../../src/nostr/normalize/nip09-deletion.js';
import { corpusEvent, corpusOfKind } from '../fixtures/corpus.js';
import { pubkeys, world } from '../fixtures/hand-built.js';

const PK = 'a'.repeat(64);

describe('parseDeletion on real kind-5 events', () => {
  it('every corpus deletion has at least one target', () => {
    const all = corpusOfKind(5);
    expect(all.length).toBe(38);
    for (const d of all) {
      const f = parseDeletion(d);
      expect(f.event_ids.length + f.addresses.length).toBeGreaterThan(0);
    }
  });
  it('an e-only deletion (with k and alt tags ignored)', () => {
    const d = corpusOfKind(5).find((e) => e.id.startsWith('3c908c00a5'));
    expect(d && parseDeletion(d)).toEqual({
      event_ids: ['cb6ec5d739bd364fb03804c118ce49d1836b937b9ad8a9e3c7e121409f4af244'],
      addresses: [],
    });
  });
  it('an e + a deletion of an addressable draft (kind 31234), a coordinate of the deleter', () => {
    const d = corpusOfKind(5).find((e) => e.tags.some((t) => t[0] === 'a'));
    if (!d) throw new Error('no deletion with a in the corpus');
    const f = parseDeletion(d);
    expect(f.event_ids).toHaveLength(1);
    expect(f.addresses).toHaveLength(1);
    expect(f.addresses[0]?.startsWith(`31234:${d.pubkey}:`)).toBe(true);
    expect(corpusEvent(d.id)).toBe(d);
  });
});

describe('parseDeletion rules', () => {
  it('hand-built deletions', () => {
    expect(parseDeletion(world.deletions.ofPost)).toEqual({ event_ids: [world.posts.toBeDeleted.id], addresses: [] });
    expect(parseDeletion(world.deletions.ofReaction)).toEqual({ event_ids: [world.reactions.toBeDeleted.id], addresses: [] });
    expect(parseDeletion(world.deletions.ofAddress)).toEqual({ event_ids: [], addresses: [`30023:${pubkeys.alice}:draft`] });
    expect(parseDeletion(world.deletions.ofApproval)).toEqual({ event_ids: [world.approvals.byOwner.id], addresses: [] });
  });
  it("a stranger's targets are still listed: authorship is checked by the store", () => {
    expect(parseDeletion(world.deletions.byStranger)).toEqual({
      event_ids: [world.posts.humanTopLevel.id],
      addresses: [`30023:${pubkeys.alice}:draft`],
    });
  });
  it('dedupe, in order', () => {
    const a = `30023:${PK}:x`;
    expect(parseDeletion({ tags: [['e', '2'.repeat(64)], ['e', '1'.repeat(64)], ['e', '2'.repeat(64)], ['a', a], ['a', a]] })).toEqual({
      event_ids: ['2'.repeat(64), '1'.repeat(64)],
      addresses: [a],
    });
  });
  it('malformed ids and coordinates are dropped', () => {
    expect(
      parseDeletion({
        tags: [
          ['e', 'AB'.repeat(32)],
          ['e', '1'.repeat(63)],
          ['e'],
          ['a', `30023:${PK}`],
          ['a', `30023:${'A'.repeat(64)}:x`],
          ['a', `kind:${PK}:x`],
          ['a', `-1:${PK}:x`],
        ],
      }),
    ).toEqual({ event_ids: [], addresses: [] });
  });
  it('replaceable coordinates (empty d) and d values with colons are valid', () => {
    expect(parseDeletion({ tags: [['a', `10002:${PK}:`], ['a', `30023:${PK}:a:b`]] }).addresses).toEqual([`10002:${PK}:`, `30023:${PK}:a:b`]);
  });
});
