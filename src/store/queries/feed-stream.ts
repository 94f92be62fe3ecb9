/**
 * What GET /v1/feed/stream sends as writes commit: among the ids a commit announced, the feed's
 * posts (with stats and author, as a feed page has them), and the posts whose stats the others
 * changed (a reply's parent, a reaction's target, a zap's target), re-read with their new stats.
 */
import { sql, type SQL } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import type { AiFilter } from './feed.js';
import { POST_COLUMNS, STATS_AND_AUTHOR_JOINS, goneCte, isPost, live, type PostRow } from './posts.js';

export interface StreamFilter {
  subclaw?: string | undefined;
  community?: string | undefined;
  author?: string | undefined;
  ai: AiFilter;
}

function list(ids: readonly string[]): SQL {
  return sql`(${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`;
}

/** The served posts among `ids` that the feed's filters select. */
export async function feedPostsAmong(db: Queryable, ids: readonly string[], f: StreamFilter, now: number): Promise<PostRow[]> {
  if (ids.length === 0) return [];
  const parts: SQL[] = [sql`e.event_id IN ${list(ids)}`, isPost('e'), live('e', now)];
  if (f.subclaw !== undefined) parts.push(sql`e.subclaw = ${f.subclaw}`);
  if (f.community !== undefined) parts.push(sql`e.community = ${f.community}`);
  if (f.author !== undefined) parts.push(sql`e.pubkey = ${f.author}`);
  if (f.ai === 'only') parts.push(sql`e.is_ai`);
  if (f.ai === 'exclude') parts.push(sql`NOT e.is_ai`);
  return query<PostRow>(
    db,
    sql`WITH ${goneCte(now)}
    SELECT ${POST_COLUMNS} FROM nostr_events e ${STATS_AND_AUTHOR_JOINS}
    WHERE ${sql.join(parts, sql` AND `)}
    ORDER BY e.created_at DESC, e.event_id`,
  );
}

/** Events whose stats the events `ids` count in: reply parents, reaction targets, zap targets. */
export async function statTargetsOf(db: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await query<{ id: string }>(
    db,
    sql`SELECT DISTINCT t.id FROM (
      SELECT e.parent_id AS id FROM nostr_events e WHERE e.event_id IN ${list(ids)} AND e.kind = 1111 AND e.parent_id IS NOT NULL
      UNION ALL
      SELECT e.target FROM nostr_events e WHERE e.event_id IN ${list(ids)} AND e.kind = 7 AND e.target IS NOT NULL
      UNION ALL
      SELECT z.target_event FROM zaps z WHERE z.receipt_id IN ${list(ids)} AND z.target_event IS NOT NULL
    ) t`,
  );
  return rows.map((r) => r.id);
}
