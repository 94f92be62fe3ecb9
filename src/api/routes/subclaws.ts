/** GET /subclaws: Clawstr subclaws with post counts and last activity. */
import { createRoute, z } from '@hono/zod-openapi';
import { subclawList } from '../../store/queries/subclaws.js';
import type { RouteGroup } from '../app.js';
import { guardReads } from '../middleware/read-auth.js';
import { cacheReads } from '../middleware/read-cache.js';
import { cachedJson } from '../cached-json.js';
import { errorResponses, intParam, jsonResponse } from '../schemas.js';

const SubclawSchema = z
  .object({
    name: z.string(),
    post_count: z.number().int().openapi({ description: 'live top-level posts' }),
    reply_count: z.number().int(),
    last_post_at: z.number().int().nullable(),
    last_activity_at: z.number().int().openapi({ description: 'newest live post or reply' }),
  })
  .openapi('Subclaw');

const listRoute = createRoute({
  method: 'get',
  path: '/subclaws',
  tags: ['subclaws'],
  summary: 'Subclaws with post counts and last activity',
  request: {
    query: z.object({
      sort: z.enum(['activity', 'posts', 'name']).optional().openapi({ description: 'activity (default), posts, name' }),
      limit: intParam(1, 1000, 200).optional().openapi({ description: '1–1000, default 200' }),
    }),
  },
  responses: { ...jsonResponse(z.object({ items: z.array(SubclawSchema) }).openapi('SubclawList'), 'subclaws'), ...errorResponses },
});

export const subclawRoutes: RouteGroup = (router, deps) => {
  cacheReads(router, deps, ['/subclaws']);
  guardReads(router, deps, ['/subclaws']);
  router.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const params = { sort: q.sort ?? 'activity', limit: q.limit ?? 200 };
    return cachedJson(c, deps.responseCache, 'subclaws', params, async () => {
      const rows = await subclawList(deps.database.reads, { now: Math.floor(Date.now() / 1000), ...params });
      const items = rows.map((r) => ({
        name: r.subclaw,
        post_count: r.post_count,
        reply_count: r.reply_count,
        last_post_at: r.last_post_at,
        last_activity_at: r.last_activity_at,
      }));
      return { items };
    });
  });
};
