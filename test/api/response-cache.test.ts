/** The response cache on its own: LRU by bytes, generations, max age, expiry bound, one read per miss. */
import { describe, expect, it } from 'vitest';
import { feedMaxAgeMs, SCORED_FIRST_PAGE_MAX_AGE_MS } from '../../src/api/feeds.js';
import { cacheKey, etagMatches, ResponseCache, toCachedBody, type CachedBody } from '../../src/api/response-cache.js';

function body(text: string): CachedBody {
  return toCachedBody({ text });
}

/** A point a producer stops at until the test opens it; `reached` resolves when it gets there. */
function gate() {
  let open!: () => void;
  let arrive!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (arrive = r));
  return {
    open,
    reached,
    pass: async () => {
      arrive();
      await opened;
    },
  };
}

/** A cache that is serving, with a clock the test moves. */
function serving(options: { maxBytes?: number; maxAgeMs?: number; nextChange?: () => Promise<number | null> } = {}) {
  let now = 1_000_000;
  const cache = new ResponseCache({
    maxBytes: options.maxBytes ?? 1_000_000,
    maxAgeMs: options.maxAgeMs ?? 10_000,
    clock: () => now,
    ...(options.nextChange ? { nextChange: options.nextChange } : {}),
  });
  cache.resume();
  return { cache, advance: (ms: number) => (now += ms), now: () => now };
}

describe('response cache', () => {
  it('serves a stored body until invalidated, then reads again', async () => {
    const { cache } = serving();
    let reads = 0;
    const produce = async () => body(`v${++reads}`);
    expect((await cache.fetch('k', produce)).outcome).toBe('miss');
    const hit = await cache.fetch('k', produce);
    expect(hit.outcome).toBe('hit');
    expect(new TextDecoder().decode(hit.value.body)).toBe('{"text":"v1"}');
    cache.invalidate();
    const after = await cache.fetch('k', produce);
    expect(after.outcome).toBe('miss');
    expect(new TextDecoder().decode(after.value.body)).toBe('{"text":"v2"}');
    expect(reads).toBe(2);
  });

  it('bypasses while not serving: before resume and after suspend, storing nothing', async () => {
    const cache = new ResponseCache({ maxBytes: 1_000_000, maxAgeMs: 10_000 });
    let reads = 0;
    const produce = async () => body(`v${++reads}`);
    expect((await cache.fetch('k', produce)).outcome).toBe('bypass');
    cache.resume();
    await cache.fetch('k', produce);
    expect((await cache.fetch('k', produce)).outcome).toBe('hit');
    cache.suspend();
    expect((await cache.fetch('k', produce)).outcome).toBe('bypass');
    expect((await cache.fetch('k', produce)).outcome).toBe('bypass');
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, serving: false });
    cache.resume();
    // What was stored before the suspension is gone: writes may have been missed meanwhile.
    expect((await cache.fetch('k', produce)).outcome).toBe('miss');
    // Three channel changes (up, down, up), each an invalidation; one write heard on top.
    cache.invalidate();
    expect(cache.stats()).toMatchObject({ channelChanges: 3, invalidations: 4 });
  });

  it('a page read while a write committed is never stored for the new generation', async () => {
    const { cache } = serving();
    const reading = gate();
    const slow = cache.fetch('k', async () => {
      await reading.pass();
      return body('read before the write');
    });
    await reading.reached;
    cache.invalidate();
    reading.open();
    expect((await slow).outcome).toBe('miss');
    const next = await cache.fetch('k', async () => body('read after the write'));
    expect(next.outcome).toBe('miss');
    expect(new TextDecoder().decode(next.value.body)).toContain('after');
  });

  it('concurrent misses of one key share one read', async () => {
    const { cache } = serving();
    let reads = 0;
    const reading = gate();
    const produce = async () => {
      reads++;
      await reading.pass();
      return body('v');
    };
    const waiting = Array.from({ length: 10 }, () => cache.fetch('k', produce));
    await reading.reached;
    reading.open();
    const results = await Promise.all(waiting);
    expect(reads).toBe(1);
    expect(new Set(results.map((r) => r.value.etag)).size).toBe(1);
  });

  it('requests after a write wait for one new read, queued behind the running one', async () => {
    const { cache } = serving();
    let reads = 0;
    const gates = [gate(), gate(), gate()];
    const produce = async () => {
      const n = reads++;
      await gates[n]!.pass();
      return body(`read ${n}`);
    };
    const text = async (r: Promise<{ value: CachedBody }>) => new TextDecoder().decode((await r).value.body);
    const before = cache.fetch('k', produce);
    await gates[0]!.reached;
    cache.invalidate();
    // Both arrived after the write: neither may get the read that started before it.
    const after = [cache.fetch('k', produce), cache.fetch('k', produce)];
    gates[0]!.open();
    await gates[1]!.reached;
    expect(reads).toBe(2);
    cache.invalidate();
    const later = cache.fetch('k', produce); // arrived after a second write: queued again
    gates[1]!.open();
    await gates[2]!.reached;
    gates[2]!.open();
    expect(await text(before)).toContain('read 0');
    expect(await text(after[0]!)).toContain('read 1');
    expect(await text(after[1]!)).toContain('read 1');
    expect(await text(later)).toContain('read 2');
    expect((await cache.fetch('k', produce)).outcome).toBe('hit');
    expect(reads).toBe(3);
  });

  it('does not cache failures', async () => {
    const { cache } = serving();
    await expect(cache.fetch('k', async () => Promise.reject(new Error('not found')))).rejects.toThrow('not found');
    expect((await cache.fetch('k', async () => body('found'))).outcome).toBe('miss');
  });

  it('keeps bytes within the budget, evicting the least recently used', async () => {
    const one = body('x'.repeat(1000));
    const entryBytes = one.body.byteLength + one.etag.length + 2 * 'k00'.length + 200;
    const budget = entryBytes * 10;
    const { cache } = serving({ maxBytes: budget });
    const produce = (i: number) => async () => body(String(i % 10).repeat(1000));
    for (let i = 0; i < 10; i++) await cache.fetch(`k0${i}`, produce(i));
    expect(cache.stats()).toMatchObject({ entries: 10, bytes: budget, evictions: 0 });
    // k00 used again: k01 is now the least recently used, and goes first.
    expect((await cache.fetch('k00', produce(0))).outcome).toBe('hit');
    await cache.fetch('k10', produce(10));
    expect(cache.stats()).toMatchObject({ entries: 10, evictions: 1 });
    expect(cache.stats().bytes).toBeLessThanOrEqual(budget);
    expect((await cache.fetch('k00', produce(0))).outcome).toBe('hit');
    expect((await cache.fetch('k10', produce(10))).outcome).toBe('hit');
    expect((await cache.fetch('k01', produce(1))).outcome).toBe('miss');
    for (let i = 0; i < 50; i++) await cache.fetch(`m${i}`, produce(i));
    expect(cache.stats().bytes).toBeLessThanOrEqual(budget);
  });

  it('does not store a body larger than an eighth of the budget', async () => {
    const { cache } = serving({ maxBytes: 8_000 });
    await cache.fetch('big', async () => body('x'.repeat(2_000)));
    expect(cache.stats().entries).toBe(0);
    expect((await cache.fetch('big', async () => body('x'.repeat(2_000)))).outcome).toBe('miss');
  });

  it('drops an entry after the max age, and at the next expiry if that comes first', async () => {
    const clock = serving({ maxAgeMs: 5_000 });
    await clock.cache.fetch('k', async () => body('a'));
    clock.advance(4_999);
    expect((await clock.cache.fetch('k', async () => body('a'))).outcome).toBe('hit');
    clock.advance(1);
    expect((await clock.cache.fetch('k', async () => body('a'))).outcome).toBe('miss');

    let lookups = 0;
    const expiring = serving({
      maxAgeMs: 60_000,
      nextChange: async () => {
        lookups++;
        return 1_000_000 + 2_000;
      },
    });
    await expiring.cache.fetch('k', async () => body('a'));
    await expiring.cache.fetch('j', async () => body('b'));
    expect(lookups).toBe(1); // once per generation while the time it names is ahead
    expiring.advance(1_999);
    expect((await expiring.cache.fetch('k', async () => body('a'))).outcome).toBe('hit');
    expiring.advance(1);
    expect((await expiring.cache.fetch('k', async () => body('a'))).outcome).toBe('miss');
    expect(lookups).toBe(2);
  });

  it('keeps a page given a shorter lifetime (a scored first page) no longer than that, the rest as configured', async () => {
    const clock = serving({ maxAgeMs: 60_000 });
    await clock.cache.fetch('top', async () => body('a'), 10_000);
    await clock.cache.fetch('new', async () => body('b'));
    clock.advance(9_999);
    expect((await clock.cache.fetch('top', async () => body('a'), 10_000)).outcome).toBe('hit');
    clock.advance(1);
    expect((await clock.cache.fetch('top', async () => body('a'), 10_000)).outcome).toBe('miss');
    expect((await clock.cache.fetch('new', async () => body('b'))).outcome).toBe('hit');
    // A shorter configured age still wins over a longer per-page one.
    const short = serving({ maxAgeMs: 2_000 });
    await short.cache.fetch('top', async () => body('a'), 10_000);
    short.advance(2_000);
    expect((await short.cache.fetch('top', async () => body('a'), 10_000)).outcome).toBe('miss');
  });

  it('refreshes an entry near its max age in the background while still serving it', async () => {
    const clock = serving({ maxAgeMs: 4_000 });
    let reads = 0;
    const produce = async () => body(`read ${reads++}`);
    const text = (r: { value: CachedBody }) => new TextDecoder().decode(r.value.body);
    await clock.cache.fetch('k', produce);
    clock.advance(2_999);
    await clock.cache.fetch('k', produce);
    expect(reads).toBe(1);
    clock.advance(1);
    const served = await clock.cache.fetch('k', produce);
    expect(served.outcome).toBe('hit');
    expect(text(served)).toContain('read 0');
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(2);
    clock.advance(1_500); // past the first read's max age
    const refreshed = await clock.cache.fetch('k', produce);
    expect(refreshed.outcome).toBe('hit');
    expect(text(refreshed)).toContain('read 1');
    expect(reads).toBe(2);
  });

  it('stores nothing when the next expiry cannot be read', async () => {
    const { cache } = serving({ nextChange: async () => Promise.reject(new Error('database down')) });
    expect((await cache.fetch('k', async () => body('a'))).outcome).toBe('miss');
    expect((await cache.fetch('k', async () => body('a'))).outcome).toBe('miss');
    expect(cache.stats().entries).toBe(0);
  });

  it('is off with a zero budget', async () => {
    const cache = new ResponseCache({ maxBytes: 0, maxAgeMs: 10_000 });
    cache.resume();
    expect((await cache.fetch('k', async () => body('a'))).outcome).toBe('bypass');
    expect(cache.stats().serving).toBe(false);
  });
});

describe('response cache helpers', () => {
  it('gives a short lifetime only to first pages ranked against the clock', () => {
    // A top window's start moves with the clock; author pages are scored live.
    expect(feedMaxAgeMs({ sort: 'top', window: 'day' })).toBe(SCORED_FIRST_PAGE_MAX_AGE_MS);
    expect(feedMaxAgeMs({ sort: 'hot', author: 'a'.repeat(64) })).toBe(SCORED_FIRST_PAGE_MAX_AGE_MS);
    // Stored rankings change only with committed writes (a hot refresh is one), which invalidate.
    expect(feedMaxAgeMs({ sort: 'top', window: 'all' })).toBeUndefined();
    expect(feedMaxAgeMs({ sort: 'hot', window: 'week' })).toBeUndefined();
    expect(feedMaxAgeMs({ sort: 'top', window: 'day', cursor: 'abc' })).toBeUndefined();
    expect(feedMaxAgeMs({ sort: 'new' })).toBeUndefined();
    expect(feedMaxAgeMs({})).toBeUndefined();
  });

  it('keys ignore parameter order and undefined parameters', () => {
    expect(cacheKey('feed', { sort: 'new', limit: 50, cursor: undefined })).toBe(cacheKey('feed', { limit: 50, sort: 'new' }));
    expect(cacheKey('feed', { limit: 50 })).not.toBe(cacheKey('feed', { limit: 51 }));
    expect(cacheKey('feed', { limit: 50 })).not.toBe(cacheKey('author-posts', { limit: 50 }));
  });

  it('serialises as JSON with a weak SHA-1 ETag over the bytes', () => {
    const a = toCachedBody({ a: 1 });
    expect(new TextDecoder().decode(a.body)).toBe('{"a":1}');
    expect(a.etag).toMatch(/^W\/"[0-9a-f]{40}"$/);
    expect(toCachedBody({ a: 1 }).etag).toBe(a.etag);
    expect(toCachedBody({ a: 2 }).etag).not.toBe(a.etag);
  });

  it('matches If-None-Match weakly, in lists, and for *', () => {
    const tag = 'W/"abc"';
    expect(etagMatches(undefined, tag)).toBe(false);
    expect(etagMatches('W/"abc"', tag)).toBe(true);
    expect(etagMatches('"abc"', tag)).toBe(true);
    expect(etagMatches('"x", W/"abc"', tag)).toBe(true);
    expect(etagMatches('*', tag)).toBe(true);
    expect(etagMatches('"abcd"', tag)).toBe(false);
  });
});
