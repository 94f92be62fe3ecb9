/**
 * The response cache of a running process, kept exact by the database: every committed write's
 * notification (store/changes.ts) invalidates it, in this process or any other on the same
 * database; while the notification channel is down it serves nothing from memory. Changes that come
 * with time rather than a write: an entry never outlives the next NIP-40 expiry, and a first page
 * sorted by score lives at most SCORED_FIRST_PAGE_MAX_AGE_MS (its window and decay follow the clock).
 */
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Channel, PostgresChannelOptions } from '../db/listen.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { CHANGES_CHANNEL } from '../store/changes.js';
import { nextExpiry } from '../store/queries/events.js';
import { ResponseCache } from './response-cache.js';

export interface LiveResponseCache {
  cache: ResponseCache;
  /** Whether writes are being heard (false: every request bypasses the cache). */
  readonly listening: boolean;
  close(): Promise<void>;
}

export async function openResponseCache(
  deps: { config: Config; database: Database; log: Logger; metrics?: MetricsRegistry | undefined },
  channelOptions?: PostgresChannelOptions,
): Promise<LiveResponseCache> {
  const { config, database, log } = deps;
  const cache = new ResponseCache({
    maxBytes: config.responseCacheBytes,
    maxAgeMs: config.responseCacheMaxAgeSeconds * 1000,
    nextChange: async () => {
      const at = await nextExpiry(database.reads, Math.floor(Date.now() / 1000));
      return at === null ? null : at * 1000;
    },
  });
  if (deps.metrics) registerCacheMetrics(deps.metrics, cache);
  if (config.responseCacheBytes <= 0) {
    return { cache, listening: false, close: async () => {} };
  }
  const channel: Channel = await database.listen(
    CHANGES_CHANNEL,
    {
      onNotify: () => cache.invalidate(),
      onUp: () => {
        cache.resume();
        log.info({ channel: CHANGES_CHANNEL }, 'response cache on: listening for writes');
      },
      onDown: (reason) => {
        cache.suspend();
        log.warn({ channel: CHANGES_CHANNEL, reason }, 'response cache bypassed: not listening for writes');
      },
    },
    channelOptions,
  );
  return {
    cache,
    get listening() {
      return channel.up;
    },
    close: () => channel.close(),
  };
}

function registerCacheMetrics(metrics: MetricsRegistry, cache: ResponseCache): void {
  const requests = metrics.counter('nostr_cache_response_cache_requests_total', 'Read requests by response-cache outcome (hit, miss, bypass)');
  const invalidations = metrics.counter('nostr_cache_response_cache_invalidations_total', 'Response-cache invalidations (committed writes heard, channel changes)');
  const size = metrics.gauge('nostr_cache_response_cache_bytes', 'Bytes held by the response cache');
  const entries = metrics.gauge('nostr_cache_response_cache_entries', 'Entries in the response cache');
  const serving = metrics.gauge('nostr_cache_response_cache_serving', '1 while the response cache serves (writes are heard), else 0');
  // The cache counts; the scrape turns what changed since the last one into counter increments.
  let last = cache.stats();
  metrics.addCollector(() => {
    const s = cache.stats();
    requests.inc({ outcome: 'hit' }, s.hits - last.hits);
    requests.inc({ outcome: 'miss' }, s.misses - last.misses);
    requests.inc({ outcome: 'bypass' }, s.bypasses - last.bypasses);
    invalidations.inc({}, s.invalidations - last.invalidations);
    size.set({}, s.bytes);
    entries.set({}, s.entries);
    serving.set({}, s.serving ? 1 : 0);
    last = s;
  });
}
