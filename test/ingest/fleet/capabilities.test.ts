/** The pure rules behind learned relay behaviour and relay ownership. */
import { describe, expect, it } from 'vitest';
import {
  connectionLearning,
  ignoresUntil,
  learnedPageSize,
  observedPageSize,
  pageLimitFor,
  parseLearned,
  RECHECK_LEARNED_AFTER_MS,
  reqCeilingFor,
  smallestKnownPageSize,
} from '../../../src/ingest/fleet/capabilities.js';
import { fairShare } from '../../../src/ingest/fleet/ownership.js';
import { relayLockKey } from '../../../src/store/locks.js';

describe('learned capabilities', () => {
  it('reads what it can from stored values, drops what it cannot, and keeps other keys', () => {
    expect(parseLearned({ pageSize: 5, respectsUntil: false, reqCeiling: 'ten', maxLimit: null, nip77: { supported: true } })).toEqual({
      pageSize: 5,
      respectsUntil: false,
      maxLimit: null,
      nip77: { supported: true },
    });
    expect(parseLearned(null)).toEqual({});
    expect(parseLearned('{"pageSize": 5}')).toEqual({});
  });

  it('asks pages no larger than the advertised or the observed limit', () => {
    expect(pageLimitFor(500, {})).toBe(500);
    expect(pageLimitFor(500, { maxLimit: 100 })).toBe(100);
    expect(pageLimitFor(500, { maxLimit: 100, pageSize: 5 })).toBe(5);
    expect(pageLimitFor(3, { pageSize: 5 })).toBe(3);
  });

  it('trusts a limitation learned from behaviour for a while, then tests it again', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    const ago = (ms: number) => new Date(now - ms).toISOString();
    const day = 24 * 3600 * 1000;
    expect(learnedPageSize({ pageSize: 5, pageSizeLearnedAt: ago(day) }, now)).toBe(5);
    expect(learnedPageSize({ pageSize: 5, pageSizeLearnedAt: ago(RECHECK_LEARNED_AFTER_MS + 1) }, now)).toBeNull();
    // Undated or unreadable dates keep the limit: asking too little is cheaper than a wrong guess.
    expect(learnedPageSize({ pageSize: 5 }, now)).toBe(5);
    expect(learnedPageSize({ pageSize: 5, pageSizeLearnedAt: 'yesterday' }, now)).toBe(5);
    expect(learnedPageSize({}, now)).toBeNull();
    expect(pageLimitFor(500, { maxLimit: 100, pageSize: 5, pageSizeLearnedAt: ago(8 * day) }, now)).toBe(100);
    // Asked at full size again, but a page of 5 still counts as possibly cut short.
    expect(smallestKnownPageSize(500, { maxLimit: 100, pageSize: 5, pageSizeLearnedAt: ago(8 * day) })).toBe(5);
    expect(smallestKnownPageSize(500, { maxLimit: 100 })).toBe(100);

    expect(ignoresUntil({ respectsUntil: false, untilCheckedAt: ago(6 * day) }, now)).toBe(true);
    expect(ignoresUntil({ respectsUntil: false, untilCheckedAt: ago(8 * day) }, now)).toBe(false);
    expect(ignoresUntil({ respectsUntil: false }, now)).toBe(true);
    expect(ignoresUntil({ respectsUntil: true, untilCheckedAt: ago(day) }, now)).toBe(false);
    expect(ignoresUntil({}, now)).toBe(false);
  });

  it('starts under the lowest known REQ ceiling', () => {
    expect(reqCeilingFor({})).toBeNull();
    expect(reqCeilingFor({ maxSubscriptions: 10 })).toBe(10);
    expect(reqCeilingFor({ maxSubscriptions: 10, reqCeiling: 3 })).toBe(3);
  });

  it('learns a page size only from a page smaller than asked while the range held more', () => {
    expect(observedPageSize(50, 5, 38)).toBe(5);
    // Everything fitted in one page: the relay may serve more.
    expect(observedPageSize(50, 7, 7)).toBeNull();
    // Pages as large as asked say nothing about a ceiling above them.
    expect(observedPageSize(5, 5, 38)).toBeNull();
    expect(observedPageSize(50, 0, 0)).toBeNull();
  });

  it('adds what a connection showed to what was known, and nothing when it showed nothing new', () => {
    const quiet = { reqCeiling: null, authRequired: false, rateLimitedSince: 0, lastRateLimitedAt: null };
    expect(connectionLearning({}, quiet)).toBeNull();
    expect(connectionLearning({ reqCeiling: 2 }, { ...quiet, reqCeiling: 2 })).toBeNull();
    const at = Date.UTC(2026, 0, 1);
    expect(
      connectionLearning({ rateLimited: { count: 4, lastAt: 'x' } }, { reqCeiling: 2, authRequired: true, rateLimitedSince: 2, lastRateLimitedAt: at }),
    ).toEqual({ reqCeiling: 2, authRequired: true, rateLimited: { count: 6, lastAt: new Date(at).toISOString() } });
  });
});

describe('relay ownership rules', () => {
  it('derives a stable, non-negative 31-bit lock key from the URL', () => {
    const key = relayLockKey('wss://relay.example.com');
    expect(key).toBe(relayLockKey('wss://relay.example.com'));
    expect(key).not.toBe(relayLockKey('wss://relay.example.org'));
    expect(key).toBeGreaterThanOrEqual(0);
    expect(key).toBeLessThan(2 ** 31);
  });

  it('gives each daemon a fair share that together covers every relay', () => {
    expect(fairShare(4, 1)).toBe(4);
    expect(fairShare(4, 2)).toBe(2);
    expect(fairShare(5, 2)).toBe(3);
    expect(fairShare(2, 3)).toBe(1);
    expect(fairShare(3, 0)).toBe(3);
  });
});
