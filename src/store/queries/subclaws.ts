/** Subclaws (Clawstr's `/c/<name>` scopes) with their live post counts and last activity. */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import { live, limitLiteral } from './posts.js';

export interface SubclawRow {
  subclaw: string;
  post_count: number;
  reply_count: number;
  last_post_at: number | null;
  last_activity_at: number;
}

export type SubclawSort = 'activity' | 'posts' | 'name';

/**
 * One pass over the subclaw's live NIP-22 comments: top-level ones are posts, the rest replies;
 * last activity is the newest of either.
 */
export async function subclawList(db: Queryable, q: { now: number; sort: SubclawSort; limit: number }): Promise<SubclawRow[]> {
  const order =
    q.sort === 'name'
      ? sql`subclaw`
      : q.sort === 'posts'
        ? sql`post_count DESC, subclaw`
        : sql`last_activity_at DESC, subclaw`;
  return query<SubclawRow>(
    db,
    sql`SELECT e.subclaw,
        count(*) FILTER (WHERE e.is_top_level) AS post_count,
        count(*) FILTER (WHERE NOT e.is_top_level) AS reply_count,
        max(e.created_at) FILTER (WHERE e.is_top_level) AS last_post_at,
        max(e.created_at) AS last_activity_at
      FROM nostr_events e
      WHERE e.subclaw IS NOT NULL AND e.kind = 1111 AND ${live('e', q.now)}
      GROUP BY e.subclaw
      ORDER BY ${order}
      ${limitLiteral(q.limit)}`,
  );
}
