/** CORS from CORS_ORIGINS: "*" (default) allows any origin; otherwise an exact list. */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

const EXPOSED = 'ETag,X-Cache';

export function corsFor(origins: string[]): MiddlewareHandler {
  const any = origins.length === 0 || origins.includes('*');
  // Preflights are answered by Hono's middleware.
  const preflight = cors({
    origin: any ? '*' : origins,
    allowMethods: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match'],
    exposeHeaders: EXPOSED.split(','),
    maxAge: 600,
  });
  // Other requests get their headers here, before the route runs: Hono's middleware touches c.res
  // first, which makes Hono rebuild the route's response around a body stream on every request
  // (a stream per request, and @hono/node-server can no longer write the bytes directly).
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    const origin = c.req.header('origin') ?? '';
    const allowed = any ? '*' : origins.includes(origin) ? origin : null;
    if (allowed) c.header('Access-Control-Allow-Origin', allowed);
    c.header('Access-Control-Expose-Headers', EXPOSED);
    await next();
    if (!any) c.res.headers.append('Vary', 'Origin');
  };
}
