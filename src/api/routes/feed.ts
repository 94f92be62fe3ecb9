/** GET /feed and GET /authors/:pubkey/posts: top-level posts with stats and authors. */
import { createRoute, z } from '@hono/zod-openapi';
import type { RouteGroup } from '../app.js';
import { guardReads } from '../middleware/read-auth.js';
import { cacheReads } from '../middleware/read-cache.js';
import { cachedJson } from '../cached-json.js';
import { feedMaxAgeMs, loadFeed, resolveFeedParams } from '../feeds.js';
import { parseCommunityAddress, parsePubkey } from '../ids.js';
import { PageSchema, authorFeedQuery, errorResponses, feedQuery, jsonResponse, pubkeyParam } from '../schemas.js';

const feedRoute = createRoute({
  method: 'get',
  path: '/feed',
  tags: ['feeds'],
  summary: 'Top-level posts, newest first by default',
  description:
    'Kind-1111 top-level comments and legacy kind-1 NIP-72 community posts. Filters combine (AND). ' +
    'sort=top ranks by score = up − down + 2·replies + sats/10 within `window`; sort=hot by score ÷ (age hours + 2)^1.5.',
  request: { query: feedQuery },
  responses: { ...jsonResponse(PageSchema, 'a page of posts'), ...errorResponses },
});

const authorPostsRoute = createRoute({
  method: 'get',
  path: '/authors/{pubkey}/posts',
  tags: ['feeds'],
  summary: "An author's top-level posts",
  request: { params: z.object({ pubkey: pubkeyParam }), query: authorFeedQuery },
  responses: { ...jsonResponse(PageSchema, 'a page of posts'), ...errorResponses },
});

export const feedRoutes: RouteGroup = (router, deps) => {
  cacheReads(router, deps, ['/feed', '/authors/*']);
  guardReads(router, deps, ['/feed', '/authors/*']);
  router.openapi(feedRoute, async (c) => {
    const q = c.req.valid('query');
    const params = resolveFeedParams({
      scope: 'feed',
      subclaw: q.subclaw,
      community: q.community === undefined ? undefined : (parseCommunityAddress(q.community) ?? undefined),
      author: q.author === undefined ? undefined : (parsePubkey(q.author) ?? undefined),
      ai: q.ai ?? deps.config.feedAiDefault,
      since: q.since,
      until: q.until,
      sort: q.sort,
      window: q.window,
      limit: q.limit,
      cursor: q.cursor,
    });
    return cachedJson(c, deps.responseCache, 'feed', params, () => loadFeed(deps.database.reads, params), feedMaxAgeMs(params));
  });

  router.openapi(authorPostsRoute, async (c) => {
    const { pubkey } = c.req.valid('param');
    const q = c.req.valid('query');
    const params = resolveFeedParams({
      scope: 'author',
      author: parsePubkey(pubkey)!,
      subclaw: q.subclaw,
      ai: q.ai ?? 'all',
      since: q.since,
      until: q.until,
      sort: q.sort,
      window: q.window,
      limit: q.limit,
      cursor: q.cursor,
    });
    return cachedJson(c, deps.responseCache, 'author-posts', params, () => loadFeed(deps.database.reads, params), feedMaxAgeMs(params));
  });
};
