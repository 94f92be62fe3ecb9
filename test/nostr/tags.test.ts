import { describe, expect, it } from 'vitest';
import { firstValid, isHex64, lastValid, parseAddress, parseUnsignedInt, tagValues, unique } from '../../src/nostr/normalize/tags.js';

const PK = 'a'.repeat(64);

describe('tag helpers', () => {
  it('isHex64: 64 lowercase hex only', () => {
    expect(isHex64('0'.repeat(64))).toBe(true);
    expect(isHex64('A'.repeat(64))).toBe(false);
    expect(isHex64('a'.repeat(63))).toBe(false);
    expect(isHex64('a'.repeat(65))).toBe(false);
    expect(isHex64(`${'a'.repeat(63)}g`)).toBe(false);
    expect(isHex64(5)).toBe(false);
  });
  it('parseAddress', () => {
    expect(parseAddress(`30023:${PK}:x:y`)).toEqual({ kind: 30023, pubkey: PK, d: 'x:y' });
    expect(parseAddress(`0:${PK}:`)).toEqual({ kind: 0, pubkey: PK, d: '' });
    expect(parseAddress(`030023:${PK}:x`)).toBeNull();
    expect(parseAddress(`30023:${PK}`)).toBeNull();
    expect(parseAddress(null)).toBeNull();
  });
  it('tagValues skips tags without a value', () => {
    expect(tagValues([['e'], ['e', 'x'], ['p', 'y'], ['e', 'z', 'hint']], 'e')).toEqual(['x', 'z']);
  });
  it('firstValid / lastValid', () => {
    const tags = [['e', 'bad'], ['e', '1'.repeat(64)], ['e', '2'.repeat(64)], ['e', 'bad']];
    expect(firstValid(tags, 'e', isHex64)).toBe('1'.repeat(64));
    expect(lastValid(tags, 'e', isHex64)).toBe('2'.repeat(64));
    expect(lastValid([], 'e', isHex64)).toBeNull();
  });
  it('parseUnsignedInt', () => {
    expect(parseUnsignedInt('12')).toBe(12);
    expect(parseUnsignedInt('1.0')).toBeNull();
    expect(parseUnsignedInt(null)).toBeNull();
    expect(parseUnsignedInt('9007199254740993')).toBeNull();
  });
  it('unique keeps first occurrences in order', () => {
    expect(unique(['b', 'a', 'b'])).toEqual(['b', 'a']);
  });
});
