/**
 * U+0000 in the path or the query string is a 400 naming where it was (Postgres text cannot hold it;
 * see src/api/limits.ts for why it is refused, not stripped). JSON bodies are checked in json-body.ts.
 */
import type { MiddlewareHandler } from 'hono';
import { errorBody } from '../errors.js';

function refusal(field: string) {
  return errorBody('bad_request', `invalid ${field}: U+0000 is not allowed`, { issues: [{ field, message: 'U+0000 is not allowed' }] });
}

export function refuseNul(): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    if (url.includes('\u0000') || /%00/i.test(url)) {
      const parsed = new URL(url);
      if (/%00/i.test(parsed.pathname) || parsed.pathname.includes('\u0000')) return c.json(refusal('path'), 400);
      for (const [key, value] of parsed.searchParams) {
        if (key.includes('\u0000') || value.includes('\u0000')) return c.json(refusal(`query.${key.replaceAll('\u0000', '\\u0000')}`), 400);
      }
    }
    return next();
  };
}
