/**
 * GET /events/:id and what hangs off it: replies, thread, reactions, zaps. `:id` is a hex id,
 * note1 or nevent1. Unknown ids are 404; so are deleted or expired events, except that the replies
 * and thread under a deleted event are still served (NIP-09: a deleted post's replies stay).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Queryable } from '../../db/client.js';
import { eventById, eventExists, reactionSummary, repliesPage, threadPage, zapsPage } from '../../store/queries/events.js';
import type { RouteGroup } from '../app.js';
import { guardReads } from '../middleware/read-auth.js';
import { cacheReads } from '../middleware/read-cache.js';
import { cachedJson } from '../cached-json.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { notFound } from '../errors.js';
import { parseEventId } from '../ids.js';
import {
  PageSchema,
  PostSchema,
  ZapSchema,
  cursorParam,
  errorResponses,
  eventIdParam,
  intParam,
  jsonResponse,
  limitParam,
  notFoundResponse,
  DEFAULT_LIMIT,
} from '../schemas.js';
import { msatToSats, toPost, toZap } from '../shape.js';

const idParams = z.object({ id: eventIdParam });
const now = () => Math.floor(Date.now() / 1000);

export const THREAD_MAX_NODES = 10_000;

const ThreadSchema = z
  .object({
    root: PostSchema.nullable().openapi({ description: 'the requested event; null when deleted or expired' }),
    items: z.array(PostSchema),
    next_cursor: z.string().nullable(),
    total: z.number().int().openapi({ description: 'live replies in the (bounded) tree' }),
    truncated: z.boolean().openapi({ description: `the walk stopped at ${THREAD_MAX_NODES} nodes` }),
    max_depth: z.number().int(),
  })
  .openapi('Thread');

const ReactionsSchema = z
  .object({
    event_id: z.string(),
    up: z.number().int(),
    down: z.number().int(),
    total: z.number().int().openapi({ description: 'reactors (one reaction each: their latest)' }),
    emojis: z.array(z.object({ emoji: z.string(), count: z.number().int() })),
  })
  .openapi('Reactions');

const ZapsSchema = z
  .object({
    event_id: z.string(),
    zap_count: z.number().int(),
    zap_msat: z.string(),
    zap_sats: z.number().int(),
    items: z.array(ZapSchema),
    next_cursor: z.string().nullable(),
  })
  .openapi('Zaps');

const eventRoute = createRoute({
  method: 'get',
  path: '/events/{id}',
  tags: ['events'],
  summary: 'One event with stats and author',
  request: { params: idParams },
  responses: { ...jsonResponse(PostSchema, 'the event'), ...errorResponses, ...notFoundResponse },
});

const repliesRoute = createRoute({
  method: 'get',
  path: '/events/{id}/replies',
  tags: ['events'],
  summary: 'Direct NIP-22 replies',
  request: {
    params: idParams,
    query: z.object({
      order: z.enum(['asc', 'desc']).optional().openapi({ description: 'asc (default): oldest first' }),
      limit: limitParam,
      cursor: cursorParam.optional(),
    }),
  },
  responses: { ...jsonResponse(PageSchema, 'a page of replies'), ...errorResponses, ...notFoundResponse },
});

const threadRoute = createRoute({
  method: 'get',
  path: '/events/{id}/thread',
  tags: ['events'],
  summary: 'The reply tree under an event, oldest first, with depth and parent',
  request: {
    params: idParams,
    query: z.object({
      max_depth: intParam(1, 50, 20).optional().openapi({ description: '1–50, default 20' }),
      limit: intParam(1, 500, 200).optional().openapi({ description: '1–500, default 200' }),
      cursor: cursorParam.optional(),
    }),
  },
  responses: { ...jsonResponse(ThreadSchema, 'a page of the tree'), ...errorResponses, ...notFoundResponse },
});

const reactionsRoute = createRoute({
  method: 'get',
  path: '/events/{id}/reactions',
  tags: ['events'],
  summary: 'Vote totals and per-emoji counts',
  request: { params: idParams },
  responses: { ...jsonResponse(ReactionsSchema, 'reaction totals'), ...errorResponses, ...notFoundResponse },
});

const zapsRoute = createRoute({
  method: 'get',
  path: '/events/{id}/zaps',
  tags: ['events'],
  summary: 'Zap receipts, newest first, with amount, sender and validity',
  request: {
    params: idParams,
    query: z.object({
      min_validity: intParam(0, 3, 0).optional().openapi({ description: 'only receipts at or above this validity (default 0)' }),
      limit: limitParam,
      cursor: cursorParam.optional(),
    }),
  },
  responses: { ...jsonResponse(ZapsSchema, 'zap receipts'), ...errorResponses, ...notFoundResponse },
});

/** 404 unless the event is live. */
async function requireLive(db: Queryable, id: string, at: number) {
  const found = await eventById(db, id, at);
  if (!found.row) throw notFound('event');
  return found.row;
}

export const eventRoutes: RouteGroup = (router, deps) => {
  cacheReads(router, deps, ['/events/*']);
  guardReads(router, deps, ['/events/*']);
  const db = deps.database.reads;
  const cache = deps.responseCache;

  router.openapi(eventRoute, async (c) => {
    const id = parseEventId(c.req.valid('param').id)!;
    return cachedJson(c, cache, 'event', { id }, async () => toPost(await requireLive(db, id, now())));
  });

  router.openapi(repliesRoute, async (c) => {
    const id = parseEventId(c.req.valid('param').id)!;
    const q = c.req.valid('query');
    const order = q.order ?? 'asc';
    const limit = q.limit ?? DEFAULT_LIMIT;
    const filters = { scope: 'replies', id, order };
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, filters);
    return cachedJson(c, cache, 'replies', { id, order, limit, cursor: q.cursor }, async () => {
      const rows = await repliesPage(db, {
        id,
        now: now(),
        order,
        after: after ? { createdAt: after.c, id: after.i } : undefined,
        limit: limit + 1,
      });
      if (rows.length === 0 && !after && !(await eventExists(db, id))) throw notFound('event');
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next_cursor = rows.length > limit && last ? encodeCursor({ c: last.created_at, i: last.event_id }, filters) : null;
      return { items: page.map((r) => toPost(r)), next_cursor };
    });
  });

  router.openapi(threadRoute, async (c) => {
    const id = parseEventId(c.req.valid('param').id)!;
    const q = c.req.valid('query');
    const maxDepth = q.max_depth ?? 20;
    const limit = q.limit ?? 200;
    const filters = { scope: 'thread', id, maxDepth };
    return cachedJson(c, cache, 'thread', { id, maxDepth, limit, cursor: q.cursor }, async () => {
      const at = now();
      const root = await eventById(db, id, at);
      if (root.presence === 'unknown') throw notFound('event');
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, filters);
      const tree = await threadPage(db, {
        id,
        now: at,
        maxDepth,
        maxNodes: THREAD_MAX_NODES,
        after: after ? { createdAt: after.c, id: after.i } : undefined,
        limit: limit + 1,
      });
      const page = tree.rows.slice(0, limit);
      const last = page[page.length - 1];
      const next_cursor = tree.rows.length > limit && last ? encodeCursor({ c: last.created_at, i: last.event_id }, filters) : null;
      return {
        root: root.row ? toPost(root.row) : null,
        items: page.map((r) => toPost(r)),
        next_cursor,
        total: tree.total,
        truncated: tree.truncated,
        max_depth: maxDepth,
      };
    });
  });

  router.openapi(reactionsRoute, async (c) => {
    const id = parseEventId(c.req.valid('param').id)!;
    return cachedJson(c, cache, 'reactions', { id }, async () => {
      const at = now();
      await requireLive(db, id, at);
      return { event_id: id, ...(await reactionSummary(db, id, at)) };
    });
  });

  router.openapi(zapsRoute, async (c) => {
    const id = parseEventId(c.req.valid('param').id)!;
    const q = c.req.valid('query');
    const limit = q.limit ?? DEFAULT_LIMIT;
    const minValidity = q.min_validity ?? 0;
    const filters = { scope: 'zaps', id, minValidity };
    return cachedJson(c, cache, 'zaps', { id, minValidity, limit, cursor: q.cursor }, async () => {
      const at = now();
      await requireLive(db, id, at);
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, filters);
      const { rows, totals } = await zapsPage(db, {
        id,
        now: at,
        minValidity,
        after: after ? { createdAt: after.c, id: after.i } : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next_cursor = rows.length > limit && last ? encodeCursor({ c: last.created_at, i: last.receipt_id }, filters) : null;
      return {
        event_id: id,
        zap_count: totals.count,
        zap_msat: totals.msat,
        zap_sats: msatToSats(totals.msat),
        items: page.map(toZap),
        next_cursor,
      };
    });
  });
};
