import { describe, expect, it } from 'vitest';
import { bolt11AmountMsat, parseBolt11Amount } from '../../src/nostr/normalize/bolt11.js';
import { corpusOfKind } from '../fixtures/corpus.js';

/** A well-formed bech32 data part (charset only; the amount parser never decodes it). */
const DATA = 'pnuk098dqjfp256s2w2vsqqqqqqqq';
const inv = (hrp: string) => `${hrp}1${DATA}`;

describe('bolt11AmountMsat: multipliers (msat per unit: none 1e11, m 1e8, u 1e5, n 100, p 0.1)', () => {
  it.each([
    ['lnbc1', 100_000_000_000n], // 1 BTC
    ['lnbc25m', 2_500_000_000n], // 25 * 1e8
    ['lnbc10u', 1_000_000n], // 10 * 1e5 (the NOSTR-RULES example)
    ['lnbc1u', 100_000n],
    ['lnbc420n', 42_000n], // 420 * 100
    ['lnbc1n', 100n],
    ['lnbc10p', 1n], // 10 * 0.1
    ['lnbc2500p', 250n],
    ['lnbc21000000', 2_100_000_000_000_000_000n], // 21e6 BTC: exact as bigint
  ])('%s -> %s msat', (hrp, msat) => {
    expect(bolt11AmountMsat(inv(hrp))).toBe(msat);
  });
});

describe('bolt11 prefixes', () => {
  it.each([
    ['lnbc', 'lnbc20u'], // mainnet
    ['lntb', 'lntb20u'], // testnet
    ['lntbs', 'lntbs20u'], // signet: not "lntb" + "s20u"
    ['lnbcrt', 'lnbcrt20u'], // regtest: not "lnbc" + "rt20u"
  ])('%s', (_prefix, hrp) => {
    expect(parseBolt11Amount(inv(hrp))).toEqual({ valid: true, msat: 2_000_000n });
  });
  it('unknown prefixes are invalid', () => {
    expect(parseBolt11Amount(inv('lnsb20u'))).toEqual({ valid: false });
    expect(parseBolt11Amount(inv('lnxx20u'))).toEqual({ valid: false });
    expect(parseBolt11Amount(inv('bc20u'))).toEqual({ valid: false });
  });
});

describe('bolt11 edge cases', () => {
  it('no amount: valid, null', () => {
    expect(parseBolt11Amount(inv('lnbc'))).toEqual({ valid: true, msat: null });
    expect(parseBolt11Amount(inv('lntbs'))).toEqual({ valid: true, msat: null });
    expect(bolt11AmountMsat(inv('lnbcrt'))).toBeNull();
  });
  it('p amounts must be a whole msat (end in 0)', () => {
    expect(parseBolt11Amount(inv('lnbc1p'))).toEqual({ valid: false });
    expect(parseBolt11Amount(inv('lnbc2501p'))).toEqual({ valid: false });
    expect(bolt11AmountMsat(inv('lnbc2501p'))).toBeNull();
  });
  it('case-insensitive', () => {
    expect(bolt11AmountMsat(inv('LNBC420N').toUpperCase())).toBe(42_000n);
    expect(bolt11AmountMsat(inv('LnTbS1M'))).toBe(100_000_000n);
  });
  it('a lightning: URI prefix and surrounding spaces are tolerated', () => {
    expect(bolt11AmountMsat(`  lightning:${inv('lnbc10u')} `)).toBe(1_000_000n);
  });
  it.each([
    ['unknown multiplier', inv('lnbc10x')],
    ['two multipliers', inv('lnbc10um')],
    ['leading zero', inv('lnbc010u')],
    ['zero amount', inv('lnbc0u')],
    ['no separator', 'lnbc10u'],
    ['data part with a non-bech32 char', 'lnbc10u1pbbbbbbbbio'],
    ['data part too short', 'lnbc10u1qqq'],
    ['empty', ''],
    ['garbage', 'hello world'],
  ])('%s: invalid', (_why, invoice) => {
    expect(parseBolt11Amount(invoice)).toEqual({ valid: false });
  });
  it('the data part is not decoded: a "1" inside the amount does not confuse the separator', () => {
    expect(bolt11AmountMsat(inv('lnbc1111n'))).toBe(111_100n);
  });
});

describe('bolt11 on the 17 real zap receipts of the corpus', () => {
  it('every real invoice has a readable amount', () => {
    const receipts = corpusOfKind(9735);
    expect(receipts.length).toBe(17);
    for (const r of receipts) {
      const b = r.tags.find((t) => t[0] === 'bolt11')?.[1] as string;
      expect(parseBolt11Amount(b).valid).toBe(true);
      expect(bolt11AmountMsat(b)).not.toBeNull();
    }
  });
});
