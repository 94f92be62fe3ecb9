/**
 * The stored feed rankings (schema/ranking.ts), defined once here as functions of nostr_events and
 * event_stats, like the other derived tables:
 *
 * - post_ranking: one row per live top-level post with its exact top score. The write path
 *   recomputes the rows of every post a batch touched (inserted, deleted, or whose stats changed),
 *   after event_stats has taken the batch's deltas, so the table is a function of the stored event
 *   set whatever the arrival order. `stats rebuild` recomputes it from scratch and counts drift.
 * - hot_ranking: snapshots of the hot order. Hot decays with the clock, so no stored order stays
 *   right; a refresh (every HOT_REFRESH_SECONDS, by the serving processes) writes a new generation
 *   at reference time `ref`, and cursors keep the generation they started on. A post deleted or
 *   expired since the snapshot leaves at once: reads join each hot row to post_ranking.
 */
import { sql, type SQL } from 'drizzle-orm';
import { query, type AppDatabase, type Queryable } from '../db/client.js';
import { announceChange } from './changes.js';
import { textSet, type Into } from './derived.js';
import { HOT_REFRESH_LOCK_KEY } from './locks.js';
import { goneCte, isPost } from './queries/posts.js';

/** How often the hot snapshot is rebuilt, and how long an older one stays for cursors. */
export const HOT_REFRESH_SECONDS = 60;
// A generation of 130k posts takes about 75 MB with its indexes (bench/RESULTS.md), so keep five.
export const HOT_RETAIN_SECONDS = 300;

/** Top score of event `e` from event_stats `s`: up − down + 2·replies + msat/10000 (exact, scale 4). */
export const STORED_SCORE = sql`((COALESCE(s.up, 0) - COALESCE(s.down, 0) + 2 * COALESCE(s.replies, 0))::numeric
  + round(COALESCE(s.zap_msat, 0)::numeric / 10000, 4))`;

/**
 * What the contributions of expired, still stored events (goneCte's `g`) add to a stored score: the
 * read subtracts it, so the served score is the live one. msat/10000 has at most 4 decimals, so the
 * rounding in the definition is exact and the correction is linear.
 */
export const GONE_SCORE = sql`((COALESCE(g.up, 0) - COALESCE(g.down, 0) + 2 * COALESCE(g.replies, 0))::numeric
  + round(COALESCE(g.zap_msat, 0)::numeric / 10000, 4))`;

const RANKING_COLUMNS = sql`event_id, created_at, subclaw, community, is_ai, expires_at, score`;

/** The ranking rows of the posts `e` restricted by `where`, from their events and stats. */
function rankingRows(where: SQL, from: SQL = sql`nostr_events e`): SQL {
  return sql`SELECT e.event_id, e.created_at, e.subclaw, e.community, e.is_ai, e.expires_at, ${STORED_SCORE} AS score
    FROM ${from} LEFT JOIN event_stats s ON s.event_id = e.event_id
    WHERE ${isPost('e')} AND e.deleted_at IS NULL AND ${where}`;
}

/**
 * Recomputes the post_ranking rows of the given event ids (any ids: those that are not live posts
 * simply have no row). One statement: the fresh rows replace changed ones, and rows of ids that are
 * no longer live posts go.
 */
export async function syncRanking(tx: Queryable, ids: Iterable<string>): Promise<void> {
  const keys = [...new Set(ids)];
  if (keys.length === 0) return;
  await tx.execute(sql`
    WITH keys AS MATERIALIZED (SELECT k.id FROM ${textSet(keys)} AS k(id)),
    fresh AS MATERIALIZED (${rankingRows(sql`true`, sql`keys JOIN nostr_events e ON e.event_id = keys.id`)}),
    gone AS (
      DELETE FROM post_ranking r USING keys
      WHERE r.event_id = keys.id AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.event_id = r.event_id))
    INSERT INTO post_ranking AS r (${RANKING_COLUMNS}) SELECT * FROM fresh
    ON CONFLICT (event_id) DO UPDATE SET score = excluded.score, expires_at = excluded.expires_at
      WHERE r.score IS DISTINCT FROM excluded.score OR r.expires_at IS DISTINCT FROM excluded.expires_at`);
}

/** The whole post_ranking, into a scratch table during `stats rebuild`. */
export async function recomputeRanking(tx: Queryable, into: Into): Promise<void> {
  await tx.execute(sql`INSERT INTO ${sql.identifier(into.table)} (${RANKING_COLUMNS}) ${rankingRows(sql`true`)}`);
}

/** Hot score at `ref` of ranking row `r` with goneCte's `g`, rounded as the live query rounds it. */
function hotOfRanking(ref: number): SQL {
  return sql`round(((r.score - ${GONE_SCORE})::float8
    / power(GREATEST(${ref}::bigint - r.created_at, 0)::float8 / 3600 + 2, 1.5))::numeric, 9)`;
}

export interface HotGeneration {
  generation: number;
  ref: number;
}

/** The newest hot snapshot, or null before the first refresh. */
export async function latestHotGeneration(db: Queryable): Promise<HotGeneration | null> {
  const rows = await query<HotGeneration>(
    db,
    sql`SELECT generation, ref FROM ranking_generations ORDER BY generation DESC LIMIT 1`,
  );
  return rows[0] ?? null;
}

/** A snapshot by number, or null once it has been dropped. */
export async function hotGeneration(db: Queryable, generation: number): Promise<HotGeneration | null> {
  const rows = await query<HotGeneration>(db, sql`SELECT generation, ref FROM ranking_generations WHERE generation = ${generation}`);
  return rows[0] ?? null;
}

export interface RefreshResult {
  generation: number;
  ref: number;
  rows: number;
  /** Older generations dropped. */
  dropped: number;
}

/**
 * Writes a new hot snapshot at reference time `now` and drops those older than `retainSeconds`
 * (never the new one). Returns null without waiting when another process is refreshing, or when
 * `minAgeSeconds` is given and the newest snapshot is younger than that.
 */
export async function refreshHotRanking(
  db: AppDatabase,
  now: number,
  options: { retainSeconds?: number; minAgeSeconds?: number } = {},
): Promise<RefreshResult | null> {
  const retain = options.retainSeconds ?? HOT_RETAIN_SECONDS;
  return db.transaction(async (tx) => {
    const [lock] = await query<{ ok: boolean }>(tx, sql`SELECT pg_try_advisory_xact_lock(${HOT_REFRESH_LOCK_KEY}) AS ok`);
    if (!lock?.ok) return null;
    const latest = await latestHotGeneration(tx);
    if (options.minAgeSeconds !== undefined && latest && now - latest.ref < options.minAgeSeconds) return null;
    const generation = (latest?.generation ?? 0) + 1;
    const inserted = await query<{ n: number }>(
      tx,
      sql`WITH ${goneCte(now)},
      written AS (
        INSERT INTO hot_ranking (generation, event_id, created_at, subclaw, community, is_ai, hot)
        SELECT ${generation}, r.event_id, r.created_at, r.subclaw, r.community, r.is_ai, ${hotOfRanking(now)}
        FROM post_ranking r LEFT JOIN gone g ON g.id = r.event_id
        WHERE r.expires_at IS NULL OR r.expires_at > ${now}
        RETURNING 1)
      SELECT count(*) AS n FROM written`,
    );
    await tx.execute(sql`INSERT INTO ranking_generations (generation, ref) VALUES (${generation}, ${now})`);
    const dropped = await query<{ generation: number }>(
      tx,
      sql`DELETE FROM ranking_generations WHERE generation < ${generation} AND ref < ${now - retain} RETURNING generation`,
    );
    if (dropped.length > 0) {
      await tx.execute(
        sql`DELETE FROM hot_ranking WHERE generation IN (SELECT json_array_elements_text(${JSON.stringify(dropped.map((d) => d.generation))}::json)::int)`,
      );
    }
    // Hot pages served from memory belong to the previous snapshot.
    await announceChange(tx);
    return { generation, ref: now, rows: inserted[0]?.n ?? 0, dropped: dropped.length };
  });
}
