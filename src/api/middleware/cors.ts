/** CORS from CORS_ORIGINS: "*" (default) allows any origin; otherwise an exact list. */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

export function corsFor(origins: string[]): MiddlewareHandler {
  const any = origins.length === 0 || origins.includes('*');
  return cors({
    origin: any ? '*' : origins,
    allowMethods: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match'],
    exposeHeaders: ['ETag', 'X-Cache'],
    maxAge: 600,
  });
}
