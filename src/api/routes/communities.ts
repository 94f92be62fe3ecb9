/** NIP-72 communities: list, one definition with moderators, and the community feed. */
import { createRoute, z } from '@hono/zod-openapi';
import { communitiesPage, communityByAddress } from '../../store/queries/communities.js';
import type { RouteGroup } from '../app.js';
import { guardReads } from '../middleware/read-auth.js';
import { cacheReads } from '../middleware/read-cache.js';
import { cachedJson } from '../cached-json.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { notFound } from '../errors.js';
import { feedMaxAgeMs, loadFeed, resolveFeedParams } from '../feeds.js';
import { parseCommunityAddress } from '../ids.js';
import {
  CommunitySchema,
  PageSchema,
  communityFeedQuery,
  communityParam,
  cursorParam,
  errorResponses,
  intParam,
  jsonResponse,
  notFoundResponse,
} from '../schemas.js';
import { toCommunity } from '../shape.js';

const listRoute = createRoute({
  method: 'get',
  path: '/communities',
  tags: ['communities'],
  summary: 'NIP-72 communities in address order',
  request: {
    query: z.object({
      limit: intParam(1, 500, 100).optional().openapi({ description: '1–500, default 100' }),
      cursor: cursorParam.optional(),
    }),
  },
  responses: {
    ...jsonResponse(z.object({ items: z.array(CommunitySchema), next_cursor: z.string().nullable() }).openapi('CommunityPage'), 'communities'),
    ...errorResponses,
  },
});

const addressParams = z.object({ address: communityParam });

const oneRoute = createRoute({
  method: 'get',
  path: '/communities/{address}',
  tags: ['communities'],
  summary: 'A community definition and its moderators',
  request: { params: addressParams },
  responses: { ...jsonResponse(CommunitySchema, 'the community'), ...errorResponses, ...notFoundResponse },
});

const feedRoute = createRoute({
  method: 'get',
  path: '/communities/{address}/feed',
  tags: ['communities', 'feeds'],
  summary: "A community's posts; approved=only keeps those approved by the owner or a current moderator",
  request: { params: addressParams, query: communityFeedQuery },
  responses: { ...jsonResponse(PageSchema, 'a page of posts, each with `approved`'), ...errorResponses, ...notFoundResponse },
});

const ANY = /^.{1,400}$/s;

export const communityRoutes: RouteGroup = (router, deps) => {
  cacheReads(router, deps, ['/communities/*']);
  guardReads(router, deps, ['/communities/*']);
  const db = deps.database.reads;
  const cache = deps.responseCache;
  const now = () => Math.floor(Date.now() / 1000);

  router.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const limit = q.limit ?? 100;
    const filters = { scope: 'communities' };
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, filters, { id: ANY });
    return cachedJson(c, cache, 'communities', { limit, cursor: q.cursor }, async () => {
      const rows = await communitiesPage(db, { now: now(), afterAddress: after?.i, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next_cursor = rows.length > limit && last ? encodeCursor({ c: 0, i: last.address }, filters) : null;
      return { items: page.map(toCommunity), next_cursor };
    });
  });

  router.openapi(oneRoute, async (c) => {
    const address = parseCommunityAddress(c.req.valid('param').address)!;
    return cachedJson(c, cache, 'community', { address }, async () => {
      const row = await communityByAddress(db, address, now());
      if (!row) throw notFound('community');
      return toCommunity(row);
    });
  });

  router.openapi(feedRoute, async (c) => {
    const address = parseCommunityAddress(c.req.valid('param').address)!;
    const q = c.req.valid('query');
    const params = resolveFeedParams({
      scope: 'community',
      community: address,
      approved: q.approved ?? 'only',
      ai: q.ai ?? deps.config.feedAiDefault,
      since: q.since,
      until: q.until,
      sort: q.sort,
      window: q.window,
      limit: q.limit,
      cursor: q.cursor,
    });
    return cachedJson(c, cache, 'community-feed', params, async () => {
      const result = await loadFeed(db, params);
      if (result.items.length === 0 && q.cursor === undefined && !(await communityByAddress(db, address, now()))) {
        throw notFound('community');
      }
      return result;
    }, feedMaxAgeMs(params));
  });
};
