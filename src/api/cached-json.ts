/**
 * How a public read answers: its JSON body comes from the response cache when the same request
 * (route and normalised parameters) was answered since the last write, else from `produce`, run
 * once however many requests are waiting for it. Either way the body is serialised once, its ETag
 * computed once, and If-None-Match answered with a 304 from it. `X-Cache` says which path served it.
 *
 * The cache key holds no caller identity: read routes answer every caller alike, and the token
 * check (READS_REQUIRE_TOKEN) runs before this, on every request, hit or not.
 */
import type { Context, TypedResponse } from 'hono';
import type { JSONParsed } from 'hono/utils/types';
import { cacheKey, etagMatches, toCachedBody, type CacheOutcome, type ResponseCache } from './response-cache.js';

/** What c.json(value, 200) returns, so routes keep their typed responses. */
export type JsonOk<T> = Response & TypedResponse<JSONParsed<T>, 200, 'json'>;

const X_CACHE: Record<CacheOutcome, string> = { hit: 'HIT', miss: 'MISS', bypass: 'BYPASS' };

export async function cachedJson<T>(
  c: Context,
  cache: ResponseCache | undefined,
  route: string,
  params: object,
  produce: () => Promise<T>,
  /** A shorter lifetime for pages that change with time (see feedMaxAgeMs). */
  maxAgeMs?: number,
): Promise<JsonOk<T>> {
  const serialise = async () => toCachedBody(await produce());
  const { value, outcome } = cache
    ? await cache.fetch(cacheKey(route, params), serialise, maxAgeMs)
    : { value: await serialise(), outcome: 'bypass' as const };
  c.header('ETag', value.etag);
  c.header('X-Cache', X_CACHE[outcome]);
  if (etagMatches(c.req.header('If-None-Match'), value.etag)) return c.body(null, 304) as unknown as JsonOk<T>;
  c.header('Content-Type', 'application/json');
  return c.body(value.body, 200) as unknown as JsonOk<T>;
}
