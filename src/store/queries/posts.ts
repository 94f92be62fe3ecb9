/**
 * What every read of an event shares: the liveness rule (not deleted, not expired), the per-event
 * stats corrected for expired-but-not-yet-purged contributions, and the one projection of an event
 * with its stats and author profile. Each page is ONE statement: the page's rows are chosen first,
 * then joined to event_stats and nostr_profiles (no query per item).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { SqlRow } from '../../db/rows.js';
import type { eventStats, nostrEvents } from '../../db/schema/nostr.js';

/**
 * One event as the read queries return it: its nostr_events columns, its stats (zap_msat as exact
 * text, db/client.ts) and its author's profile fields.
 */
export type PostRow = Pick<
  SqlRow<typeof nostrEvents>,
  | 'event_id' | 'kind' | 'pubkey' | 'created_at' | 'content' | 'tags_json' | 'sig' | 'identifier' | 'subclaw'
  | 'community' | 'root_id' | 'parent_id' | 'is_top_level' | 'is_ai' | 'expires_at'
> &
  Pick<SqlRow<typeof eventStats>, 'replies' | 'up' | 'down' | 'zap_count'> &
  PostExtras;

interface PostExtras {
  zap_msat: string;
  author_name: string | null;
  author_display_name: string | null;
  author_picture: string | null;
  author_nip05: string | null;
  /** Sort key of top/hot pages, as exact text. */
  sort_score?: string | null;
  /** Community feeds: a valid approval exists. */
  approved?: boolean | null;
  /** Threads: distance from the requested root. */
  depth?: number;
}

/**
 * A LIMIT written into the statement rather than bound: with a bound LIMIT a generic (cached) plan
 * assumes a large fraction of the rows and walks no index; a literal keeps the index plans.
 */
export function limitLiteral(n: number): SQL {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`invalid limit ${n}`);
  return sql.raw(`LIMIT ${n}`);
}

/** The event is served: not deleted (NIP-09) and not expired (NIP-40) at `now`. */
export function live(alias: string, now: number): SQL {
  const a = sql.raw(alias);
  return sql`${a}.deleted_at IS NULL AND (${a}.expires_at IS NULL OR ${a}.expires_at > ${now})`;
}

/**
 * Contributions to event_stats of events that have expired but are still stored (the purge runs
 * later): replies, the reactor's recorded vote, and valid zap receipts. Read through the partial
 * index on expires_at, so it costs nothing when no stored event has expired.
 */
export function goneCte(now: number): SQL {
  // Joins go from the (few) expired rows to each table's primary key (LATERAL ... OFFSET 0 keeps
  // them parameterised even in a generic plan), so the plan stays a handful of index probes.
  return sql`expired AS MATERIALIZED (
    SELECT x.event_id, x.kind, x.pubkey, x.parent_id, x.target, x.deleted_at
    FROM nostr_events x WHERE x.expires_at <= ${now}
  ),
  gone AS (
    SELECT g.id, sum(g.replies)::int AS replies, sum(g.up)::int AS up, sum(g.down)::int AS down,
           sum(g.zap_count)::int AS zap_count, sum(g.zap_msat)::bigint AS zap_msat
    FROM (
      SELECT x.parent_id AS id, 1 AS replies, 0 AS up, 0 AS down, 0 AS zap_count, 0::bigint AS zap_msat
        FROM expired x WHERE x.kind = 1111 AND x.parent_id IS NOT NULL AND x.deleted_at IS NULL
      UNION ALL
      SELECT r.target, 0, (r.vote = 1)::int, (r.vote = -1)::int, 0, 0::bigint
        FROM expired x CROSS JOIN LATERAL (
          SELECT r.target, r.vote FROM reactions r
          WHERE r.target = x.target AND r.reactor = x.pubkey AND r.event_id = x.event_id OFFSET 0) r
        WHERE x.target IS NOT NULL
      UNION ALL
      SELECT z.target_event, 0, 0, 0, 1, COALESCE(z.amount_msat, 0)
        FROM expired x CROSS JOIN LATERAL (
          SELECT z.target_event, z.amount_msat FROM zaps z
          WHERE z.receipt_id = x.event_id AND z.validity >= 2 AND z.target_event IS NOT NULL OFFSET 0) z
        WHERE x.kind = 9735
    ) g
    GROUP BY g.id
  )`;
}

/** Stat columns of `e` (needs `s` = event_stats and `g` = gone joined on e.event_id). */
export const STAT_EXPRESSIONS = {
  replies: sql`(COALESCE(s.replies, 0) - COALESCE(g.replies, 0))`,
  up: sql`(COALESCE(s.up, 0) - COALESCE(g.up, 0))`,
  down: sql`(COALESCE(s.down, 0) - COALESCE(g.down, 0))`,
  zapCount: sql`(COALESCE(s.zap_count, 0) - COALESCE(g.zap_count, 0))`,
  zapMsat: sql`(COALESCE(s.zap_msat, 0) - COALESCE(g.zap_msat, 0))`,
};

/** Score = up − down + 2·replies + sats/10, exact (numeric). */
export const SCORE_EXPRESSION = sql`((${STAT_EXPRESSIONS.up} - ${STAT_EXPRESSIONS.down} + 2 * ${STAT_EXPRESSIONS.replies})::numeric
  + round(${STAT_EXPRESSIONS.zapMsat}::numeric / 10000, 4))`;

/** Hot = score ÷ (age hours + 2)^1.5 at reference time `ref`, rounded so it compares exactly. */
export function hotExpression(ref: number): SQL {
  return sql`round((${SCORE_EXPRESSION}::float8
    / power(GREATEST(${ref}::bigint - e.created_at, 0)::float8 / 3600 + 2, 1.5))::numeric, 9)`;
}

/** The joins that give `s`, `g` and `p` for the event aliased `e`. */
export const STATS_AND_AUTHOR_JOINS = sql`
  LEFT JOIN event_stats s ON s.event_id = e.event_id
  LEFT JOIN gone g ON g.id = e.event_id
  LEFT JOIN nostr_profiles p ON p.pubkey = e.pubkey`;

/** The projection of PostRow for `e` with STATS_AND_AUTHOR_JOINS. */
export const POST_COLUMNS = sql`
  e.event_id, e.kind, e.pubkey, e.created_at, e.content, e.tags_json, e.sig, e.identifier, e.subclaw,
  e.community, e.root_id, e.parent_id, e.is_top_level, e.is_ai, e.expires_at,
  ${STAT_EXPRESSIONS.replies} AS replies, ${STAT_EXPRESSIONS.up} AS up, ${STAT_EXPRESSIONS.down} AS down,
  ${STAT_EXPRESSIONS.zapCount} AS zap_count, ${STAT_EXPRESSIONS.zapMsat}::text AS zap_msat,
  p.name AS author_name, p.display_name AS author_display_name, p.picture AS author_picture,
  p.nip05 AS author_nip05`;

/**
 * Feed items are top-level posts: NIP-22 top-level comments (kind 1111), and legacy NIP-72
 * community posts (kind 1 with a community). Plain kind-1 notes are not posts of this app, even
 * though the normaliser flags notes without `e` tags as top-level.
 */
export function isPost(alias: string): SQL {
  const a = sql.raw(alias);
  return sql`${a}.is_top_level AND ${a}.kind IN (1, 1111) AND (${a}.kind = 1111 OR ${a}.community IS NOT NULL)`;
}

/**
 * A valid NIP-72 approval of post `alias` in its community: the approver is the community's owner
 * or one of the moderators of its current definition.
 */
export function approvedIn(alias: string): SQL {
  const a = sql.raw(alias);
  return sql`EXISTS (
    SELECT 1 FROM community_approvals ap JOIN communities c ON c.address = ap.community
    WHERE ap.community = ${a}.community AND ap.post_id = ${a}.event_id
      AND (ap.approver = c.owner OR EXISTS (
        SELECT 1 FROM community_moderators m WHERE m.address = ap.community AND m.pubkey = ap.approver)))`;
}
