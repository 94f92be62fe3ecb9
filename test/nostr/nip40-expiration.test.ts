import { describe, expect, it } from 'vitest';
import { expirationOf, isExpired } from '../../src/nostr/normalize/nip40-expiration.js';
import { loadCorpus } from '../fixtures/corpus.js';
import { FAR_FUTURE, T0, world } from '../fixtures/hand-built.js';

const withExp = (...values: string[]) => ({ tags: values.map((v) => ['expiration', v]) });

describe('expirationOf (NIP-40)', () => {
  it('real corpus events with expiration tags', () => {
    const expiring = loadCorpus().filter((e) => e.tags.some((t) => t[0] === 'expiration'));
    expect(expiring.length).toBe(26);
    for (const e of expiring) {
      const raw = e.tags.find((t) => t[0] === 'expiration')?.[1];
      expect(expirationOf(e)).toBe(Number(raw));
    }
    // e.g. a kind-1 note created 1711468767 that expired a minute later
    const first = expiring.find((e) => e.id.startsWith('222747b390'));
    expect(first && expirationOf(first)).toBe(1711468827);
  });
  it('events without the tag: null', () => {
    expect(expirationOf({ tags: [] })).toBeNull();
    expect(expirationOf({ tags: [['expiration']] })).toBeNull();
  });
  it.each(['1700001060.5', '', ' 1700000000', '1700000000 ', '-5', '+5', '1e9', 'soon', '0x10', '99999999999999999999'])(
    'non-integer value %j is ignored',
    (v) => {
      expect(expirationOf(withExp(v))).toBeNull();
    },
  );
  it('integer values, including 0 and leading zeros', () => {
    expect(expirationOf(withExp('0'))).toBe(0);
    expect(expirationOf(withExp('0042'))).toBe(42);
  });
  it('only the first expiration tag counts', () => {
    expect(expirationOf(withExp('100', '200'))).toBe(100);
    expect(expirationOf(withExp('bad', '200'))).toBeNull();
  });
  it('hand-built: past, far future, non-integer', () => {
    expect(expirationOf(world.expiring.past)).toBe(T0 + 1060);
    expect(expirationOf(world.expiring.farFuture)).toBe(FAR_FUTURE);
    expect(expirationOf(world.expiring.nonInteger)).toBeNull();
  });
  it('isExpired uses the caller-supplied clock', () => {
    expect(isExpired(T0 + 1060, T0 + 1059)).toBe(false);
    expect(isExpired(T0 + 1060, T0 + 1060)).toBe(true);
    expect(isExpired(null, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(isExpired(FAR_FUTURE, 1_800_000_000)).toBe(false);
  });
});
