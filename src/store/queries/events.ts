/**
 * One event and what hangs off it: direct replies, the reply tree under it, reaction totals and zap
 * receipts. Deleted and expired events are never returned; a deleted event's replies still are.
 */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import type { SqlRow } from '../../db/rows.js';
import type { zaps } from '../../db/schema/nostr.js';
import { POST_COLUMNS, STATS_AND_AUTHOR_JOINS, goneCte, limitLiteral, live, type PostRow } from './posts.js';

export type EventPresence = 'live' | 'gone' | 'unknown';

/** The live event with stats and author, and whether an id is stored at all (for 404 vs gone). */
export async function eventById(db: Queryable, id: string, now: number): Promise<{ row: PostRow | null; presence: EventPresence }> {
  const rows = await query<PostRow & { is_live: boolean }>(
    db,
    sql`WITH ${goneCte(now)}
    SELECT ${POST_COLUMNS}, (${live('e', now)}) AS is_live
    FROM nostr_events e ${STATS_AND_AUTHOR_JOINS}
    WHERE e.event_id = ${id}`,
  );
  const row = rows[0];
  if (!row) return { row: null, presence: 'unknown' };
  return row.is_live ? { row, presence: 'live' } : { row: null, presence: 'gone' };
}

/** Whether an event id is stored (live or not). */
export async function eventExists(db: Queryable, id: string): Promise<boolean> {
  const rows = await query<{ one: number }>(db, sql`SELECT 1 AS one FROM nostr_events WHERE event_id = ${id}`);
  return rows.length > 0;
}

export interface ChronoKey {
  createdAt: number;
  id: string;
}

/** Direct NIP-22 replies (kind 1111 whose parent is `id`), oldest or newest first. */
export async function repliesPage(
  db: Queryable,
  q: { id: string; now: number; order: 'asc' | 'desc'; after?: ChronoKey | undefined; limit: number },
): Promise<PostRow[]> {
  const asc = q.order === 'asc';
  const dir = sql.raw(asc ? 'ASC' : 'DESC');
  const keyset = q.after
    ? asc
      ? sql`AND (e.created_at, e.event_id) > (${q.after.createdAt}::bigint, ${q.after.id}::text)`
      : sql`AND (e.created_at, e.event_id) < (${q.after.createdAt}::bigint, ${q.after.id}::text)`
    : sql``;
  return query<PostRow>(
    db,
    sql`WITH ${goneCte(q.now)}
    SELECT ${POST_COLUMNS}
    FROM (SELECT e.* FROM nostr_events e
          WHERE e.parent_id = ${q.id} AND e.kind = 1111 AND ${live('e', q.now)} ${keyset}
          ORDER BY e.created_at ${dir}, e.event_id ${dir} ${limitLiteral(q.limit)}) e
    ${STATS_AND_AUTHOR_JOINS}
    ORDER BY e.created_at ${dir}, e.event_id ${dir}`,
  );
}

export interface ThreadQuery {
  id: string;
  now: number;
  maxDepth: number;
  /** Nodes visited at most (the tree is cut beyond, breadth first). */
  maxNodes: number;
  after?: ChronoKey | undefined;
  limit: number;
}

/**
 * The reply tree under `id` (kind-1111 replies by parent_id, breadth first, down to maxDepth),
 * oldest first, a page at a time. Deleted or expired nodes are walked through (their replies
 * stay) but not returned. `truncated` says the walk hit maxNodes.
 */
export async function threadPage(db: Queryable, q: ThreadQuery): Promise<{ rows: PostRow[]; truncated: boolean; total: number }> {
  const keyset = q.after ? sql`WHERE (t.created_at, t.event_id) > (${q.after.createdAt}::bigint, ${q.after.id}::text)` : sql``;
  const rows = await query<PostRow & { visited: number; listed: number }>(
    db,
    sql`WITH RECURSIVE tree(event_id, created_at, depth) AS (
      SELECT c.event_id, c.created_at, 1 FROM nostr_events c WHERE c.parent_id = ${q.id} AND c.kind = 1111
      UNION ALL
      SELECT c.event_id, c.created_at, t.depth + 1
      FROM tree t JOIN nostr_events c ON c.parent_id = t.event_id AND c.kind = 1111
      WHERE t.depth < ${q.maxDepth}
    ),
    walked AS (SELECT * FROM tree ${limitLiteral(q.maxNodes + 1)}),
    listed AS (
      SELECT w.* FROM walked w JOIN nostr_events e ON e.event_id = w.event_id WHERE ${live('e', q.now)}
    ),
    ${goneCte(q.now)},
    page AS (SELECT t.* FROM listed t ${keyset} ORDER BY t.created_at, t.event_id ${limitLiteral(q.limit)})
    SELECT ${POST_COLUMNS}, k.depth,
      (SELECT count(*) FROM walked) AS visited, (SELECT count(*) FROM listed) AS listed
    FROM page k JOIN nostr_events e ON e.event_id = k.event_id
    ${STATS_AND_AUTHOR_JOINS}
    ORDER BY k.created_at, k.event_id`,
  );
  if (rows.length === 0) {
    const counts = await query<{ visited: number; listed: number }>(
      db,
      sql`WITH RECURSIVE tree(event_id, depth) AS (
        SELECT c.event_id, 1 FROM nostr_events c WHERE c.parent_id = ${q.id} AND c.kind = 1111
        UNION ALL
        SELECT c.event_id, t.depth + 1 FROM tree t JOIN nostr_events c ON c.parent_id = t.event_id AND c.kind = 1111
        WHERE t.depth < ${q.maxDepth}
      ),
      walked AS (SELECT * FROM tree ${limitLiteral(q.maxNodes + 1)})
      SELECT (SELECT count(*) FROM walked) AS visited,
             (SELECT count(*) FROM walked w JOIN nostr_events e ON e.event_id = w.event_id WHERE ${live('e', q.now)}) AS listed`,
    );
    const c = counts[0];
    return { rows: [], truncated: (c?.visited ?? 0) > q.maxNodes, total: Math.min(c?.listed ?? 0, q.maxNodes) };
  }
  const first = rows[0]!;
  return {
    rows,
    truncated: first.visited > q.maxNodes,
    total: Math.min(first.listed, q.maxNodes),
  };
}

export interface ReactionSummary {
  up: number;
  down: number;
  total: number;
  emojis: Array<{ emoji: string; count: number }>;
}

/** Vote totals and per-emoji counts: one reaction per reactor (their latest live one). */
export async function reactionSummary(db: Queryable, id: string, now: number): Promise<ReactionSummary> {
  const rows = await query<{ emoji: string; vote: number; n: number }>(
    db,
    sql`SELECT r.emoji, r.vote, count(*) AS n
        FROM reactions r JOIN nostr_events x ON x.event_id = r.event_id
        WHERE r.target = ${id} AND ${live('x', now)}
        GROUP BY r.emoji, r.vote`,
  );
  const emojis = new Map<string, number>();
  let up = 0;
  let down = 0;
  let total = 0;
  for (const row of rows) {
    const n = row.n;
    if (row.vote === 1) up += n;
    if (row.vote === -1) down += n;
    total += n;
    emojis.set(row.emoji, (emojis.get(row.emoji) ?? 0) + n);
  }
  return {
    up,
    down,
    total,
    emojis: [...emojis].map(([emoji, count]) => ({ emoji, count })).sort((a, b) => b.count - a.count || (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0)),
  };
}

/** A zap receipt as served: its zaps columns, amount_msat as exact text (db/client.ts). */
export type ZapRow = Pick<
  SqlRow<typeof zaps>,
  'receipt_id' | 'receipt_pubkey' | 'sender' | 'sender_verified' | 'recipient' | 'amount_from_request' | 'validity' | 'comment' | 'created_at'
> & { amount_msat: string | null };

export interface ZapTotals {
  count: number;
  msat: string;
}

/** Zap receipts on an event, newest first, every validity level; totals count validity >= 2. */
export async function zapsPage(
  db: Queryable,
  q: { id: string; now: number; after?: ChronoKey | undefined; limit: number; minValidity: number },
): Promise<{ rows: ZapRow[]; totals: ZapTotals }> {
  const keyset = q.after ? sql`AND (z.created_at, z.receipt_id) < (${q.after.createdAt}::bigint, ${q.after.id}::text)` : sql``;
  const rows = await query<ZapRow & { total_count: number; total_msat: string }>(
    db,
    sql`WITH valid AS (
      SELECT z.* FROM zaps z JOIN nostr_events x ON x.event_id = z.receipt_id
      WHERE z.target_event = ${q.id} AND ${live('x', q.now)}
    ),
    totals AS (
      SELECT count(*) AS total_count, COALESCE(sum(amount_msat), 0)::text AS total_msat FROM valid WHERE validity >= 2
    )
    SELECT p.*, t.total_count, t.total_msat FROM totals t LEFT JOIN LATERAL (
      SELECT z.receipt_id, z.receipt_pubkey, z.sender, z.sender_verified, z.recipient, z.amount_msat::text AS amount_msat,
             z.amount_from_request, z.validity, z.comment, z.created_at
      FROM valid z WHERE z.validity >= ${q.minValidity} ${keyset}
      ORDER BY z.created_at DESC, z.receipt_id DESC ${limitLiteral(q.limit)}
    ) p ON TRUE`,
  );
  const first = rows[0];
  const totals = { count: first?.total_count ?? 0, msat: first?.total_msat ?? '0' };
  return { rows: rows.filter((r) => r.receipt_id !== null), totals };
}

/**
 * The earliest NIP-40 expiry after `now` among stored events (null: none): until then, what the
 * read queries return at `now` can change only through a write.
 */
export async function nextExpiry(db: Queryable, now: number): Promise<number | null> {
  const rows = await query<{ at: number | null }>(
    db,
    sql`SELECT min(expires_at) AS at FROM nostr_events WHERE expires_at > ${now}`,
  );
  return rows[0]?.at ?? null;
}
