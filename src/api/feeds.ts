/**
 * One feed page from validated parameters: resolves defaults, decodes the cursor, asks the store
 * for limit + 1 rows and turns the extra row into next_cursor. Shared by /feed,
 * /communities/:address/feed and /authors/:pubkey/posts.
 */
import type { Queryable } from '../db/client.js';
import { feedPage, type AiFilter, type FeedSort } from '../store/queries/feed.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { DEFAULT_LIMIT } from './schemas.js';
import { toPost, type Post } from './shape.js';

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

export interface FeedResult {
  items: Post[];
  next_cursor: string | null;
}

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
 * How long a cached page may be served: a first page sorted by score is ranked against the clock
 * (the window's start and the hot decay move with `now`), so it changes with time as well as with
 * writes; later pages carry their reference time in the cursor. Undefined: the cache's own limit.
 */
export const SCORED_FIRST_PAGE_MAX_AGE_MS = 10_000;
export function feedMaxAgeMs(params: Pick<FeedParams, 'sort' | 'cursor'>): number | undefined {
  return (params.sort ?? 'new') !== 'new' && params.cursor === undefined ? SCORED_FIRST_PAGE_MAX_AGE_MS : undefined;
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
  // Score sorts rank every page at the first page's reference time, so pages fit together.
  const ref = after?.r ?? now;
  const seconds = window === undefined ? null : WINDOW_SECONDS[window];
  const rows = await feedPage(db, {
    subclaw: params.subclaw,
    community: params.community,
    author: params.author,
    ai: params.ai,
    since: params.since,
    until: params.until,
    approvedOnly: params.approved === 'only',
    withApproved: params.approved !== undefined,
    sort,
    windowStart: seconds === null ? undefined : ref - seconds,
    ref,
    now,
    after: after ? { createdAt: after.c, id: after.i, ...(after.s !== undefined ? { score: after.s } : {}) } : undefined,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const next_cursor =
    rows.length > limit && last
      ? encodeCursor(
          {
            c: Number(last.created_at),
            i: last.event_id,
            ...(scored ? { s: String(last.sort_score), r: ref } : {}),
          },
          filters,
        )
      : null;
  return { items: page.map((row) => toPost(row, { hot: sort === 'hot' })), next_cursor };
}
