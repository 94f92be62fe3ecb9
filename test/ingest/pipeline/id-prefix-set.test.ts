import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdPrefixSet } from '../../../src/ingest/pipeline/id-prefix-set.js';
import { SeenIds } from '../../../src/ingest/pipeline/seen-ids.js';

const id = (n: number): string => createHash('sha256').update(`event ${n}`).digest('hex');
/** A signature-shaped value (128 hex characters). */
const sig = (n: number): string => createHash('sha512').update(`sig ${n}`).digest('hex');

describe('IdPrefixSet', () => {
  it('remembers what was added and nothing else', () => {
    const set = new IdPrefixSet(100);
    for (let n = 0; n < 50; n++) set.add(id(n));
    set.add(id(3)); // again: no second entry
    expect(set.size).toBe(50);
    for (let n = 0; n < 50; n++) expect(set.has(id(n))).toBe(true);
    for (let n = 50; n < 5000; n++) expect(set.has(id(n))).toBe(false);
  });

  it('keeps exactly the most recent `capacity` ids through heavy churn (deleted slots rebuilt)', () => {
    const capacity = 1000;
    const set = new IdPrefixSet(capacity);
    const total = 25_000;
    for (let n = 0; n < total; n++) {
      set.add(id(n));
      expect(set.size).toBe(Math.min(n + 1, capacity));
    }
    for (let n = 0; n < total; n++) expect(set.has(id(n)), `id ${n}`).toBe(n >= total - capacity);
  });

  it('treats two ids with the same first 64 bits as one (documented)', () => {
    const set = new IdPrefixSet(10);
    const a = id(1);
    set.add(a);
    expect(set.has(`${a.slice(0, 16)}${'0'.repeat(48)}`)).toBe(true);
    expect(set.has(`${a.slice(0, 15)}${a[15] === '0' ? '1' : '0'}${a.slice(16)}`)).toBe(false);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new IdPrefixSet(0)).toThrow(/capacity/);
    expect(() => new IdPrefixSet(1.5)).toThrow(/capacity/);
  });
});

describe('SeenIds', () => {
  it('knows a verified id, keeps copies that arrive while the first is pending, and forgets the oldest past capacity', () => {
    const seen = new SeenIds<string>(3);
    expect(seen.admit(id(1), 'first')).toBe('new');
    expect(seen.isConfirmed(id(1))).toBe(false); // pending is not known
    expect(seen.admit(id(1), 'second')).toBe('waiting');
    // The first copy was forged: the waiting one is verified next.
    expect(seen.reject(id(1))).toBe('second');
    expect(seen.confirm(id(1), sig(1))).toEqual([]);
    expect(seen.admit(id(1), 'third')).toBe('known');
    // The signature it verified with is remembered (its first 32 bits), and only that one.
    expect(seen.signedAs(id(1), sig(1))).toBe(true);
    expect(seen.signedAs(id(1), sig(9))).toBe(false);
    expect(seen.signedAs(id(1), '')).toBe(false);
    for (const n of [2, 3, 4]) {
      seen.admit(id(n), 'x');
      seen.confirm(id(n), sig(n));
    }
    expect(seen.isConfirmed(id(1))).toBe(false); // evicted: a later copy is checked against the store
    expect(seen.signedAs(id(1), sig(1))).toBe(false);
    expect([2, 3, 4].every((n) => seen.isConfirmed(id(n)) && seen.signedAs(id(n), sig(n)))).toBe(true);
  });
});
