/**
 * Cache-Control on reads. Successful GETs (200, and 304 revalidations) may be kept by clients and
 * shared caches for `maxAge` seconds (private when reads need a token); errors and other methods are
 * never cached. ETags and the in-process response cache are the routes' part (api/cached-json.ts).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppDependencies } from '../app.js';

export function readCache(options: { maxAge: number; private: boolean }): MiddlewareHandler {
  const cacheControl =
    options.maxAge > 0
      ? `${options.private ? 'private' : 'public'}, max-age=${options.maxAge}`
      : 'no-cache';
  return async (c, next) => {
    await next();
    const cacheable = (c.req.method === 'GET' || c.req.method === 'HEAD') && (c.res.status === 200 || c.res.status === 304);
    // Set on the response's own headers: c.header() on a finished response rebuilds it around a
    // body stream, which costs a stream per request and @hono/node-server's direct write of the bytes.
    c.res.headers.set('Cache-Control', cacheable ? cacheControl : 'no-store');
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
