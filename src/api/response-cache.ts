/**
 * The read API's response cache: serialised bodies with their ETag, per normalised request, kept
 * until a write is committed. No I/O here: the owner calls `invalidate()` when a write commits (a
 * Postgres notification, see live-response-cache.ts), `suspend()` while it cannot hear about writes
 * and `resume()` once it can again; what a response's validity depends on besides writes (the next
 * NIP-40 expiry) comes from the injected `nextChange`.
 *
 * Correctness rests on generations: an entry is tagged with the generation current when its data
 * was read, so a write that commits while a page is being computed makes that page unservable as
 * soon as its invalidation arrives, whichever finishes first.
 */
import { createHash } from 'node:crypto';

/** A serialised 200 response. */
export interface CachedBody {
  body: Uint8Array<ArrayBuffer>;
  /** Weak ETag over the body. */
  etag: string;
}

export type CacheOutcome = 'hit' | 'miss' | 'bypass';

export interface ResponseCacheOptions {
  /** Budget for bodies, keys and bookkeeping; 0 disables caching (every request bypasses). */
  maxBytes: number;
  /** An entry is dropped this long after its data was read, whatever happened since. */
  maxAgeMs: number;
  /**
   * Wall-clock ms at which answers computed now may change without a write (the next NIP-40
   * expiry), or null for never. Called before the data is read, at most once per generation until
   * that time passes. A failure means "do not store".
   */
  nextChange?: () => Promise<number | null>;
  clock?: () => number;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  bypasses: number;
  evictions: number;
  /** Writes heard and channel changes; each empties the cache. */
  invalidations: number;
  /** Of those, the channel going down or coming back (suspend, resume). */
  channelChanges: number;
  entries: number;
  bytes: number;
  serving: boolean;
}

interface Entry extends CachedBody {
  generation: number;
  expiresAt: number;
  /** From then on, a hit also starts a fresh read in the background (see fetch). */
  refreshAt: number;
  bytes: number;
}

interface Flight {
  generation: number;
  result: Promise<CachedBody>;
  /** The read queued behind this one for requests that arrived after a write. */
  next?: Promise<CachedBody>;
}

/** Map slot, entry object and timestamps, so thousands of tiny bodies cannot exceed the budget. */
const ENTRY_OVERHEAD_BYTES = 200;
/** One entry may use at most this share of the budget, so a huge page cannot flush everything else. */
const MAX_ENTRY_SHARE = 8;
/** Share of the max age after which a hit refreshes its entry ahead of time. */
const REFRESH_AHEAD = 0.75;

/** Serialises a response value as c.json would, with its weak ETag. */
export function toCachedBody(value: unknown): CachedBody {
  const body = new TextEncoder().encode(JSON.stringify(value));
  return { body, etag: `W/"${createHash('sha1').update(body).digest('hex')}"` };
}

/** If-None-Match against an ETag, by weak comparison (RFC 9110 §13.1.2): `*` or any listed tag. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return (ifNoneMatch.match(/(?:W\/)?"[^"]*"/g) ?? []).some((tag) => tag.replace(/^W\//, '') === opaque);
}

/**
 * The cache key of a request: the route and its parameters after validation, defaults and id
 * decoding, so equivalent requests (npub or hex, omitted or explicit defaults, any parameter order)
 * share one entry. Undefined parameters are left out.
 */
export function cacheKey(route: string, params: object): string {
  const entries = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${route} ${JSON.stringify(entries)}`;
}

export class ResponseCache {
  /** Insertion order is recency order: a hit moves its entry to the end; eviction takes the front. */
  private readonly entries = new Map<string, Entry>();
  /** Reads in progress, so concurrent requests for one key share one database read. */
  private readonly flights = new Map<string, Flight>();
  private nextChangeMemo: { generation: number; at: Promise<number | null> } | null = null;
  private generation = 0;
  private bytes = 0;
  /** Off until the owner says writes can be heard (resume). */
  private serving = false;
  private readonly counts = { hits: 0, misses: 0, bypasses: 0, evictions: 0, invalidations: 0, channelChanges: 0 };
  private readonly clock: () => number;

  constructor(private readonly options: ResponseCacheOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** A write was committed: nothing cached so far may be served again. */
  invalidate(): void {
    this.generation++;
    this.counts.invalidations++;
    this.entries.clear();
    this.bytes = 0;
    this.nextChangeMemo = null;
  }

  /** Writes can no longer be heard (channel down): serve nothing from memory, store nothing. */
  suspend(): void {
    this.serving = false;
    this.counts.channelChanges++;
    this.invalidate();
  }

  /** Writes can be heard again; whatever was missed meanwhile is covered by starting empty. */
  resume(): void {
    this.counts.channelChanges++;
    this.invalidate();
    this.serving = true;
  }

  stats(): ResponseCacheStats {
    return { ...this.counts, entries: this.entries.size, bytes: this.bytes, serving: this.serving && this.options.maxBytes > 0 };
  }

  /** The cached body for `key`, or `produce`'s (stored when allowed). Errors of `produce` are not cached. */
  async fetch(key: string, produce: () => Promise<CachedBody>, maxAgeMs?: number): Promise<{ value: CachedBody; outcome: CacheOutcome }> {
    if (!this.serving || this.options.maxBytes <= 0) {
      this.counts.bypasses++;
      return { value: await produce(), outcome: 'bypass' };
    }
    const found = this.entries.get(key);
    if (found) {
      const now = this.clock();
      if (found.generation === this.generation && now < found.expiresAt) {
        this.entries.delete(key);
        this.entries.set(key, found);
        this.counts.hits++;
        // An entry close to its max age is read again while it still serves, so a slow page does
        // not make every request wait when the age runs out. Writes still invalidate at once.
        if (now >= found.refreshAt && !this.flights.has(key)) this.run(key, produce, maxAgeMs).catch(() => {});
        return { value: found, outcome: 'hit' };
      }
      this.remove(key, found);
    }
    this.counts.misses++;
    return { value: await this.flight(key, produce, maxAgeMs), outcome: 'miss' };
  }

  /**
   * Reads of one key: at most one runs and one waits. A request joins the running read when it
   * started in the current generation; otherwise (a write committed since it started) the read
   * queued behind it, which starts after the request arrived and so sees that write. Under a steady
   * stream of writes an expensive page is thus read at most once at a time, not once per write.
   */
  private flight(key: string, produce: () => Promise<CachedBody>, maxAgeMs: number | undefined): Promise<CachedBody> {
    const running = this.flights.get(key);
    if (!running) return this.run(key, produce, maxAgeMs);
    if (running.generation === this.generation) return running.result;
    running.next ??= running.result.then(
      () => this.run(key, produce, maxAgeMs),
      () => this.run(key, produce, maxAgeMs),
    );
    return running.next;
  }

  private run(key: string, produce: () => Promise<CachedBody>, maxAgeMs: number | undefined): Promise<CachedBody> {
    const flight: Flight = { generation: this.generation, result: this.compute(key, this.generation, produce, maxAgeMs) };
    this.flights.set(key, flight);
    // The queued read, if any, replaces this one when it starts; otherwise the key is free again.
    const done = () => {
      if (this.flights.get(key) === flight && !flight.next) this.flights.delete(key);
    };
    flight.result.then(done, done);
    return flight.result;
  }

  private async compute(key: string, generation: number, produce: () => Promise<CachedBody>, maxAgeMs: number | undefined): Promise<CachedBody> {
    // Looked up before reading: an expiry found with an earlier `now` can only be earlier, never skipped.
    const changeAt = await this.nextChange(generation).then(
      (at) => at ?? Infinity,
      () => null,
    );
    const readAt = this.clock();
    const value = await produce();
    if (changeAt !== null && generation === this.generation && this.serving) {
      const maxAge = Math.min(this.options.maxAgeMs, maxAgeMs ?? Infinity);
      this.store(key, value, generation, Math.min(readAt + maxAge, changeAt), readAt + maxAge * REFRESH_AHEAD);
    }
    return value;
  }

  /** One lookup per generation, reused until the time it names has come. */
  private async nextChange(generation: number): Promise<number | null> {
    if (!this.options.nextChange) return null;
    const memo = this.nextChangeMemo;
    if (memo && memo.generation === generation) {
      const at = await memo.at;
      if (at === null || this.clock() < at) return at;
    }
    const at = this.options.nextChange();
    if (generation === this.generation) {
      const entry = { generation, at };
      this.nextChangeMemo = entry;
      // A failed lookup is not remembered: the next miss asks again.
      at.catch(() => {
        if (this.nextChangeMemo === entry) this.nextChangeMemo = null;
      });
    }
    return at;
  }

  private store(key: string, value: CachedBody, generation: number, expiresAt: number, refreshAt: number): void {
    const bytes = value.body.byteLength + value.etag.length + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.options.maxBytes / MAX_ENTRY_SHARE || this.clock() >= expiresAt) return;
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    this.entries.set(key, { body: value.body, etag: value.etag, generation, expiresAt, refreshAt, bytes });
    this.bytes += bytes;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.remove(oldestKey, oldest);
      this.counts.evictions++;
    }
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}
