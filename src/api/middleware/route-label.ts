/** The matched route pattern of a request (`/v1/events/:id`), or "unmatched": bounded cardinality. */
import type { Context } from 'hono';
import { routePath } from 'hono/route';

export function routeLabel(c: Context): string {
  const path = routePath(c, -1);
  return path === '' || path.endsWith('*') ? 'unmatched' : path;
}
