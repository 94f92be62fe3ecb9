/**
 * Feed pages: top-level posts newest first (keyset on created_at, event_id), or by top/hot score
 * (keyset on score, created_at, event_id). One statement per page: the page's ids are chosen through
 * the feed indexes, then joined to stats and profiles.
 */
import { sql, type SQL } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import {
  POST_COLUMNS,
  SCORE_EXPRESSION,
  STATS_AND_AUTHOR_JOINS,
  approvedIn,
  goneCte,
  hotExpression,
  isPost,
  live,
  limitLiteral,
  type PostRow,
} from './posts.js';

export type FeedSort = 'new' | 'top' | 'hot';
export type AiFilter = 'all' | 'only' | 'exclude';

export interface FeedKey {
  /** Exact score text (top/hot only). */
  score?: string;
  createdAt: number;
  id: string;
}

export interface FeedQuery {
  subclaw?: string | undefined;
  community?: string | undefined;
  author?: string | undefined;
  ai: AiFilter;
  since?: number | undefined;
  until?: number | undefined;
  /** Community feeds: only posts with a valid approval. */
  approvedOnly?: boolean;
  /** Adds the `approved` column (community feeds). */
  withApproved?: boolean;
  sort: FeedSort;
  /** top/hot: only posts created at or after this time. */
  windowStart?: number | undefined;
  /** Reference time of hot scores; kept in the cursor so every page ranks alike. */
  ref: number;
  /** Wall clock for expiry. */
  now: number;
  after?: FeedKey | undefined;
  /** Rows to return; callers ask for one more than a page to learn whether another follows. */
  limit: number;
}

function filters(q: FeedQuery): SQL {
  const parts: SQL[] = [isPost('e'), live('e', q.now)];
  if (q.subclaw !== undefined) parts.push(sql`e.subclaw = ${q.subclaw}`);
  if (q.community !== undefined) parts.push(sql`e.community = ${q.community}`);
  if (q.author !== undefined) parts.push(sql`e.pubkey = ${q.author}`);
  if (q.ai === 'only') parts.push(sql`e.is_ai`);
  if (q.ai === 'exclude') parts.push(sql`NOT e.is_ai`);
  if (q.since !== undefined) parts.push(sql`e.created_at >= ${q.since}`);
  if (q.until !== undefined) parts.push(sql`e.created_at <= ${q.until}`);
  if (q.windowStart !== undefined) parts.push(sql`e.created_at >= ${q.windowStart}`);
  if (q.approvedOnly) parts.push(approvedIn('e'));
  return sql.join(parts, sql` AND `);
}

// ORDER BY spells NULLS LAST like the feed indexes (drizzle's .desc()), or Postgres cannot walk them.
export async function feedPage(db: Queryable, q: FeedQuery): Promise<PostRow[]> {
  const approved = q.withApproved ? sql`, ${approvedIn('e')} AS approved` : sql``;
  if (q.sort === 'new') {
    const keyset = q.after ? sql`AND (e.created_at, e.event_id) < (${q.after.createdAt}::bigint, ${q.after.id}::text)` : sql``;
    return query<PostRow>(
      db,
      sql`WITH ${goneCte(q.now)}
      SELECT ${POST_COLUMNS}${approved}
      FROM (SELECT e.* FROM nostr_events e WHERE ${filters(q)} ${keyset}
            ORDER BY e.created_at DESC NULLS LAST, e.event_id DESC NULLS LAST ${limitLiteral(q.limit)}) e
      ${STATS_AND_AUTHOR_JOINS}
      ORDER BY e.created_at DESC NULLS LAST, e.event_id DESC NULLS LAST`,
    );
  }
  const score = q.sort === 'top' ? SCORE_EXPRESSION : hotExpression(q.ref);
  const keyset = q.after
    ? sql`WHERE (k.sort_score, k.created_at, k.event_id) < (${q.after.score ?? '0'}::numeric, ${q.after.createdAt}::bigint, ${q.after.id}::text)`
    : sql``;
  return query<PostRow>(
    db,
    sql`WITH ${goneCte(q.now)},
    scored AS (
      SELECT e.event_id, e.created_at, ${score} AS sort_score
      FROM nostr_events e LEFT JOIN event_stats s ON s.event_id = e.event_id LEFT JOIN gone g ON g.id = e.event_id
      WHERE ${filters(q)}
    ),
    page AS (
      SELECT k.* FROM scored k ${keyset}
      ORDER BY k.sort_score DESC, k.created_at DESC, k.event_id DESC ${limitLiteral(q.limit)}
    )
    SELECT ${POST_COLUMNS}, k.sort_score::text AS sort_score${approved}
    FROM page k JOIN nostr_events e ON e.event_id = k.event_id
    ${STATS_AND_AUTHOR_JOINS}
    ORDER BY k.sort_score DESC, k.created_at DESC, k.event_id DESC`,
  );
}
