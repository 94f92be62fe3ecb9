/**
 * One feed page from validated parameters: resolves defaults, decodes the cursor, asks the store
 * for limit + 1 rows and turns the extra row into next_cursor. Shared by /feed,
 * /communities/:address/feed and /authors/:pubkey/posts.
 */
import type { Queryable } from '../db/client.js';
import { hotGeneration, latestHotGeneration } from '../store/ranking.js';
import { feedPage, type AiFilter, type FeedSort } from '../store/queries/feed.js';
import { rankedFeedPage } from '../store/queries/ranked-feed.js';
import { decodeCursor, encodeCursor, type CursorKey } from './cursor.js';
import type { z } from '@hono/zod-openapi';
import { DEFAULT_LIMIT, type PageSchema } from './schemas.js';
import { toPost } from './shape.js';

export type FeedWindow = 'hour' | 'day' | 'week' | 'month' | 'year' | 'all';

const WINDOW_SECONDS: Record<FeedWindow, number | null> = {
  hour: 3_600,
  day: 86_400,
  week: 7 * 86_400,
  month: 30 * 86_400,
  year: 365 * 86_400,
  all: null,
};

export interface FeedParams {
  /** Which endpoint, so a cursor of one feed is refused by another. */
  scope: string;
  subclaw?: string | undefined;
  community?: string | undefined;
  author?: string | undefined;
  ai: AiFilter;
  since?: number | undefined;
  until?: number | undefined;
  sort?: FeedSort | undefined;
  window?: FeedWindow | undefined;
  approved?: 'only' | 'all' | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export type FeedResult = z.infer<typeof PageSchema>;

/**
 * The parameters with their defaults applied, so requests meaning the same page are equal (they
 * share a response-cache entry).
 */
export function resolveFeedParams(params: FeedParams): FeedParams & { sort: FeedSort; limit: number } {
  const sort = params.sort ?? 'new';
  return {
    ...params,
    sort,
    window: sort === 'new' ? undefined : (params.window ?? (sort === 'top' ? 'day' : 'week')),
    limit: params.limit ?? DEFAULT_LIMIT,
  };
}

/**
 * How long a cached page may be served. Pages read from the stored rankings change only with
 * committed writes (and a hot snapshot's refresh is one), which invalidate the cache; a first top
 * page over a window is ranked against the clock (the window's start moves with `now`), and author
 * pages are scored live at `now`, so those live at most 10 s. Later pages carry their reference time
 * (and snapshot) in the cursor. Undefined: the cache's own limit.
 */
export const SCORED_FIRST_PAGE_MAX_AGE_MS = 10_000;
export function feedMaxAgeMs(params: Pick<FeedParams, 'sort' | 'cursor' | 'window' | 'author'>): number | undefined {
  const sort = params.sort ?? 'new';
  if (sort === 'new' || params.cursor !== undefined) return undefined;
  if (params.author !== undefined) return SCORED_FIRST_PAGE_MAX_AGE_MS;
  if (sort === 'top' && params.window !== undefined && params.window !== 'all') return SCORED_FIRST_PAGE_MAX_AGE_MS;
  return undefined;
}

/**
 * Where a score-sorted page is read from: the stored rankings, except author pages (few posts,
 * scored live) and hot pages without a snapshot (none built yet, or the cursor's was dropped), which
 * score live at the reference time, as before the rankings.
 */
async function rankedSource(
  db: Queryable,
  sort: 'top' | 'hot',
  after: CursorKey | undefined,
  author: string | undefined,
  now: number,
): Promise<{ ranked: boolean; ref: number; generation?: number }> {
  const ref = after?.r ?? now;
  if (author !== undefined) return { ranked: false, ref };
  if (sort === 'top') return { ranked: true, ref };
  const snapshot = after === undefined ? await latestHotGeneration(db) : after.g === undefined ? null : await hotGeneration(db, after.g);
  return snapshot ? { ranked: true, ref: snapshot.ref, generation: snapshot.generation } : { ranked: false, ref };
}

export async function loadFeed(db: Queryable, params: FeedParams, now = Math.floor(Date.now() / 1000)): Promise<FeedResult> {
  const { sort, window, limit } = resolveFeedParams(params);
  const filters = {
    scope: params.scope,
    subclaw: params.subclaw,
    community: params.community,
    author: params.author,
    ai: params.ai,
    since: params.since,
    until: params.until,
    sort,
    window,
    approved: params.approved,
  };
  const scored = sort !== 'new';
  const after = params.cursor === undefined ? undefined : decodeCursor(params.cursor, filters, { score: scored });
  // Score sorts rank every page at the first page's reference time (hot: its snapshot's), so
  // pages fit together.
  const source = sort === 'new' ? { ranked: false, ref: now } : await rankedSource(db, sort, after, params.author, now);
  const { ref, generation } = source;
  const seconds = window === undefined ? null : WINDOW_SECONDS[window];
  const query = {
    subclaw: params.subclaw,
    community: params.community,
    ai: params.ai,
    since: params.since,
    until: params.until,
    approvedOnly: params.approved === 'only',
    withApproved: params.approved !== undefined,
    windowStart: seconds === null ? undefined : ref - seconds,
    ref,
    now,
    after: after ? { createdAt: after.c, id: after.i, ...(after.s !== undefined ? { score: after.s } : {}) } : undefined,
    limit: limit + 1,
  };
  const rows =
    source.ranked && sort !== 'new'
      ? await rankedFeedPage(db, { ...query, sort, ...(generation !== undefined ? { generation } : {}) })
      : await feedPage(db, { ...query, author: params.author, sort });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const next_cursor =
    rows.length > limit && last
      ? encodeCursor(
          {
            c: last.created_at,
            i: last.event_id,
            ...(scored ? { s: String(last.sort_score), r: ref } : {}),
            ...(generation !== undefined ? { g: generation } : {}),
          },
          filters,
        )
      : null;
  return { items: page.map((row) => toPost(row, { hot: sort === 'hot' })), next_cursor };
}
