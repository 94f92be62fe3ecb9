/**
 * Caching headers on reads: a weak ETag over the body (304 on If-None-Match) and Cache-Control.
 * Successful GETs may be cached for `maxAge` seconds (private when reads need a token); errors and
 * other methods are never cached.
 */
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppDependencies } from '../app.js';
import { etag } from 'hono/etag';

/** SHA-1 on the calling thread: node:crypto is several times cheaper than WebCrypto's async digest here. */
function sha1(body: Uint8Array): ArrayBuffer {
  const digest = createHash('sha1').update(body).digest();
  return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer;
}

export function readCache(options: { maxAge: number; private: boolean }): MiddlewareHandler {
  const tag = etag({ weak: true, generateDigest: sha1 });
  const cacheControl =
    options.maxAge > 0
      ? `${options.private ? 'private' : 'public'}, max-age=${options.maxAge}`
      : 'no-cache';
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      await next();
      c.header('Cache-Control', 'no-store');
      return;
    }
    await tag(c, async () => {
      await next();
      c.header('Cache-Control', c.res.status === 200 ? cacheControl : 'no-store');
    });
  };
}

/**
 * Mounts readCache on the given route patterns of the public read routes only: the control plane's
 * per-user answers must never be marked cacheable by shared caches.
 */
export function cacheReads(
  router: { use: (path: string, ...handlers: MiddlewareHandler[]) => unknown },
  deps: AppDependencies,
  paths: string[],
): void {
  const cache = readCache({ maxAge: deps.config.readCacheSeconds, private: deps.config.readsRequireToken });
  for (const path of paths) router.use(path, cache);
}
