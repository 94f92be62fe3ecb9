/**
 * Signed web comments in bulk, for the completeness tests: bursts at a given rate (the events a
 * relay receives while the daemon is down), and events published late with an old `created_at`.
 * Signed with the benchmarks' fast BIP-340 signer (one scalar multiplication per event), so 20,000
 * take about a second instead of nostr-tools' twenty.
 */
import { finalize, signingKey, type SigningKey } from '../../bench/generate-events.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { secretKeys } from '../fixtures/hand-built.js';

export interface BurstOptions {
  /** created_at of the newest event (unix seconds). */
  until: number;
  /** Events per second of created_at (default 10: the 300 posts over 30 s). */
  perSecond?: number;
  /** Subclaw name (default `x`). */
  subclaw?: string;
  /**
   * `web` (default): `I` = https://clawstr.com/c/<name>, `K` = web. `hashtag`: the legacy form,
   * `I` = #<name>, `K` = #.
   */
  form?: 'web' | 'hashtag';
  /** Distinguishes bursts with otherwise equal content (ids must differ). */
  label?: string;
  key?: keyof typeof secretKeys;
}

const keys = new Map<string, SigningKey>();

function keyOf(name: keyof typeof secretKeys): SigningKey {
  let key = keys.get(name);
  if (!key) keys.set(name, (key = signingKey(secretKeys[name])));
  return key;
}

/** The tags of a top-level subclaw post in either form. */
export function subclawPostTags(subclaw: string, form: 'web' | 'hashtag'): string[][] {
  const [identifier, kind] = form === 'web' ? [`https://clawstr.com/c/${subclaw}`, 'web'] : [`#${subclaw}`, '#'];
  return [
    ['I', identifier],
    ['K', kind],
    ['i', identifier],
    ['k', kind],
  ];
}

/**
 * `count` top-level kind-1111 posts, oldest first, `perSecond` of them per second of created_at,
 * the newest at `until`.
 */
export function burst(count: number, options: BurstOptions): NostrEvent[] {
  const perSecond = options.perSecond ?? 10;
  const key = keyOf(options.key ?? 'alice');
  const tags = subclawPostTags(options.subclaw ?? 'x', options.form ?? 'web');
  const label = options.label ?? 'burst';
  return Array.from({ length: count }, (_, i) => {
    const createdAt = options.until - Math.floor((count - 1 - i) / perSecond);
    return finalize(key, createdAt, 1111, tags, `${label} ${i}`);
  });
}
