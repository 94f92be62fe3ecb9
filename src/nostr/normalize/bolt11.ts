/**
 * The amount of a BOLT-11 invoice, read from its human-readable part only (no bech32 decoding: the
 * amount is in the prefix, and the data part is not needed to count a zap). Exact, in msat, as a
 * bigint: 1 BTC = 1e11 msat overflows nothing, and the `p` multiplier is a tenth of a msat.
 */

/** Network prefixes, longest first so `lntbs` is not read as `lntb` + amount `s…`. */
const PREFIXES = ['lnbcrt', 'lntbs', 'lntb', 'lnbc'] as const;

const BECH32_DATA = /^[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}$/;

/** msat per unit, as numerator / divisor (`p` = 1/10 msat). */
const MULTIPLIERS: Record<string, { num: bigint; div: bigint }> = {
  '': { num: 100_000_000_000n, div: 1n },
  m: { num: 100_000_000n, div: 1n },
  u: { num: 100_000n, div: 1n },
  n: { num: 100n, div: 1n },
  p: { num: 1n, div: 10n },
};

export type Bolt11Amount =
  /** msat is null when the invoice names no amount (a "donation" invoice). */
  | { valid: true; msat: bigint | null }
  | { valid: false };

/**
 * Parses the amount. The human-readable part ends at the last '1' (the bech32 separator). Invalid:
 * unknown prefix, a leading zero, or a `p` amount that is not a whole msat.
 */
export function parseBolt11Amount(invoice: string): Bolt11Amount {
  const text = invoice.trim().toLowerCase().replace(/^lightning:/, '');
  const sep = text.lastIndexOf('1');
  if (sep < 0) return { valid: false };
  const hrp = text.slice(0, sep);
  // The data part is bech32 (no '1' in its charset) and ends in a 6-char checksum; checking its
  // charset keeps a bare "lnbc10u" from being split at the amount's own '1'.
  if (!BECH32_DATA.test(text.slice(sep + 1))) return { valid: false };

  const prefix = PREFIXES.find((p) => hrp.startsWith(p));
  if (prefix === undefined) return { valid: false };
  const amount = hrp.slice(prefix.length);
  if (amount === '') return { valid: true, msat: null };

  const m = /^([1-9][0-9]*)([munp]?)$/.exec(amount);
  if (!m) return { valid: false };
  const unit = MULTIPLIERS[m[2] as string] as { num: bigint; div: bigint };
  const scaled = BigInt(m[1] as string) * unit.num;
  if (scaled % unit.div !== 0n) return { valid: false };
  return { valid: true, msat: scaled / unit.div };
}

/** Amount in msat; null when the invoice has no amount or is not a valid invoice prefix. */
export function bolt11AmountMsat(invoice: string): bigint | null {
  const parsed = parseBolt11Amount(invoice);
  return parsed.valid ? parsed.msat : null;
}
