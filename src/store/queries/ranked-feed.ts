/**
 * Feed pages by top or hot score from the stored rankings (store/ranking.ts): the page's ids are an
 * index range of post_ranking (top) or of one hot_ranking generation (hot), then joined to the
 * events, stats and profiles exactly as newest-first pages are. Same order, keys and score text as
 * the scoring queries of feed.ts, which stay for author pages and for cursors whose hot snapshot
 * has been dropped.
 */
import { sql, type SQL } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import { GONE_SCORE } from '../ranking.js';
import type { FeedQuery } from './feed.js';
import { POST_COLUMNS, STATS_AND_AUTHOR_JOINS, approvedIn, goneCte, limitLiteral, type PostRow } from './posts.js';

export interface RankedFeedQuery extends Omit<FeedQuery, 'sort' | 'author'> {
  sort: 'top' | 'hot';
  /** hot: the snapshot to read (its ref is the query's `ref`). */
  generation?: number;
}

/** Filters on the columns a ranking row shares with its event (alias `a`). */
function rowFilters(a: string, q: RankedFeedQuery): SQL[] {
  const t = sql.raw(a);
  const parts: SQL[] = [];
  if (q.subclaw !== undefined) parts.push(sql`${t}.subclaw = ${q.subclaw}`);
  if (q.community !== undefined) parts.push(sql`${t}.community = ${q.community}`);
  if (q.ai === 'only') parts.push(sql`${t}.is_ai`);
  if (q.ai === 'exclude') parts.push(sql`NOT ${t}.is_ai`);
  if (q.since !== undefined) parts.push(sql`${t}.created_at >= ${q.since}`);
  if (q.until !== undefined) parts.push(sql`${t}.created_at <= ${q.until}`);
  if (q.windowStart !== undefined) parts.push(sql`${t}.created_at >= ${q.windowStart}`);
  return parts;
}

/** The post is still ranked (post_ranking row `r`): not expired at `now`, approved when asked. */
function servable(q: RankedFeedQuery): SQL[] {
  const parts = [sql`(r.expires_at IS NULL OR r.expires_at > ${q.now})`];
  if (q.approvedOnly) parts.push(approvedIn('r'));
  return parts;
}

function keyset(score: SQL, createdAt: SQL, id: SQL, q: RankedFeedQuery): SQL[] {
  if (!q.after) return [];
  return [sql`(${score}, ${createdAt}, ${id}) < (${q.after.score ?? '0'}::numeric, ${q.after.createdAt}::bigint, ${q.after.id}::text)`];
}

const and = (parts: SQL[]): SQL => (parts.length === 0 ? sql`true` : sql.join(parts, sql` AND `));

/**
 * The top page: the index range of posts whose stored score is their served score, merged with the
 * (few) posts that expired-but-stored events contributed to, whose score is corrected here.
 */
function topPicks(q: RankedFeedQuery): SQL {
  const order = sql`ORDER BY r.score DESC NULLS LAST, r.created_at DESC NULLS LAST, r.event_id DESC NULLS LAST`;
  return sql`picked AS (
      (SELECT r.event_id, r.created_at, r.score AS sort_score FROM post_ranking r
       WHERE ${and([...rowFilters('r', q), ...servable(q), ...keyset(sql`r.score`, sql`r.created_at`, sql`r.event_id`, q)])}
         AND NOT EXISTS (SELECT 1 FROM gone g WHERE g.id = r.event_id)
       ${order} ${limitLiteral(q.limit)})
      UNION ALL
      SELECT c.* FROM (
        SELECT r.event_id, r.created_at, r.score - ${GONE_SCORE} AS sort_score
        FROM gone g JOIN post_ranking r ON r.event_id = g.id
        WHERE ${and([...rowFilters('r', q), ...servable(q)])}) c
      WHERE ${and(keyset(sql`c.sort_score`, sql`c.created_at`, sql`c.event_id`, q))}
    ),
    page AS (
      SELECT k.* FROM picked k ORDER BY k.sort_score DESC, k.created_at DESC, k.event_id DESC ${limitLiteral(q.limit)}
    )`;
}

/** The hot page: an index range of one snapshot, each row checked against the live ranking. */
function hotPicks(q: RankedFeedQuery): SQL {
  if (q.generation === undefined) throw new Error('a hot page needs a snapshot generation');
  return sql`page AS (
      SELECT h.event_id, h.created_at, h.hot AS sort_score
      FROM hot_ranking h JOIN post_ranking r ON r.event_id = h.event_id
      WHERE h.generation = ${q.generation}
        AND ${and([...rowFilters('h', q), ...servable(q), ...keyset(sql`h.hot`, sql`h.created_at`, sql`h.event_id`, q)])}
      ORDER BY h.hot DESC NULLS LAST, h.created_at DESC NULLS LAST, h.event_id DESC NULLS LAST ${limitLiteral(q.limit)}
    )`;
}

export async function rankedFeedPage(db: Queryable, q: RankedFeedQuery): Promise<PostRow[]> {
  const approved = q.withApproved ? sql`, ${approvedIn('e')} AS approved` : sql``;
  return query<PostRow>(
    db,
    sql`WITH ${goneCte(q.now)},
    ${q.sort === 'top' ? topPicks(q) : hotPicks(q)}
    SELECT ${POST_COLUMNS}, k.sort_score::text AS sort_score${approved}
    FROM page k JOIN nostr_events e ON e.event_id = k.event_id
    ${STATS_AND_AUTHOR_JOINS}
    ORDER BY k.sort_score DESC, k.created_at DESC, k.event_id DESC`,
  );
}
