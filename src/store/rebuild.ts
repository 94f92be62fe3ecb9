/**
 * `nostr-cache stats rebuild`: recomputes every derived table from `nostr_events` with the same
 * definitions the write path uses (derived.ts), compares with what is stored, and replaces what
 * drifted. On a consistent database every drift is 0.
 */
import { is, sql } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import * as schema from '../db/schema/index.js';
import { query, type AppDatabase, type Queryable } from '../db/client.js';
import type { NormalizeOptions } from '../nostr/types.js';
import {
  applyTombstones,
  rebuildPerEventRows,
  recomputeCommunities,
  recomputeProfiles,
  recomputeReactions,
  recomputeStats,
  type Into,
} from './derived.js';
import { announceChange } from './changes.js';
import { recomputeRanking } from './ranking.js';
import { WRITER_LOCK_KEY } from './locks.js';


/** Rows that differ between the stored table and its recomputation, per table (and deleted_at). */
export type DriftReport = Record<string, number>;

/** Derived tables in dependency order: each one's definition reads only those before it. */
const STAGES = ['tombstones', 'deleted_at', 'per_event', 'reactions', 'event_stats', 'post_ranking', 'profiles', 'communities'] as const;

export async function rebuildDerived(db: AppDatabase, options: NormalizeOptions): Promise<DriftReport> {
  const drift: DriftReport = {};
  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${WRITER_LOCK_KEY})`);
    for (const stage of STAGES) {
      switch (stage) {
        case 'tombstones': {
          // Tombstones first: deleted_at, and so everything after it, depends on them.
          const scratch = await scratchTables(tx, ['tombstones']);
          await rebuildPerEventRows(tx, options, { tombstones: scratch.tombstones! });
          drift.tombstones = await swapIn(tx, 'tombstones', scratch.tombstones!);
          break;
        }
        case 'per_event': {
          const scratch = await scratchTables(tx, ['zaps', 'community_approvals']);
          await rebuildPerEventRows(tx, options, { zaps: scratch.zaps!, approvals: scratch.community_approvals! });
          drift.zaps = await swapIn(tx, 'zaps', scratch.zaps!);
          drift.community_approvals = await swapIn(tx, 'community_approvals', scratch.community_approvals!);
          break;
        }
        case 'deleted_at':
          drift['nostr_events.deleted_at'] = (await applyTombstones(tx, null)).length;
          break;
        case 'reactions': {
          const scratch = await scratchTables(tx, ['reactions']);
          await recomputeReactions(tx, null, scratch.reactions);
          drift.reactions = await swapIn(tx, 'reactions', scratch.reactions!);
          break;
        }
        case 'event_stats': {
          const scratch = await scratchTables(tx, ['event_stats']);
          await recomputeStats(tx, scratch.event_stats);
          drift.event_stats = await swapIn(tx, 'event_stats', scratch.event_stats!);
          break;
        }
        case 'post_ranking': {
          // After event_stats: the top score is read from it. (`stats rebuild` then writes a new hot
          // snapshot from the corrected ranking.)
          const scratch = await scratchTables(tx, ['post_ranking']);
          await recomputeRanking(tx, scratch.post_ranking!);
          drift.post_ranking = await swapIn(tx, 'post_ranking', scratch.post_ranking!);
          break;
        }
        case 'profiles': {
          const scratch = await scratchTables(tx, ['nostr_profiles']);
          await recomputeProfiles(tx, null, scratch.nostr_profiles);
          drift.nostr_profiles = await swapIn(tx, 'nostr_profiles', scratch.nostr_profiles!);
          break;
        }
        case 'communities': {
          const scratch = await scratchTables(tx, ['communities', 'community_moderators']);
          await recomputeCommunities(tx, null, {
            communities: scratch.communities!,
            moderators: scratch.community_moderators!,
          });
          drift.communities = await swapIn(tx, 'communities', scratch.communities!);
          drift.community_moderators = await swapIn(tx, 'community_moderators', scratch.community_moderators!);
          break;
        }
      }
    }
    if (Object.values(drift).some((n) => n > 0)) await announceChange(tx);
  });
  return drift;
}

/** Empty temporary copies of the given tables, dropped at commit. */
async function scratchTables(tx: Queryable, tables: string[]): Promise<Record<string, Into>> {
  const out: Record<string, Into> = {};
  for (const table of tables) {
    const name = `rebuild_${table}`;
    await tx.execute(sql`DROP TABLE IF EXISTS ${sql.identifier(name)}`);
    await tx.execute(
      sql`CREATE TEMP TABLE ${sql.identifier(name)} (LIKE ${sql.identifier(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES) ON COMMIT DROP`,
    );
    out[table] = { table: name };
  }
  return out;
}

/** A table's primary-key columns, read from the Drizzle schema: drift counts keys, so a changed row counts once. */
function primaryKeyOf(table: string): string[] {
  for (const value of Object.values(schema) as unknown[]) {
    if (!is(value, PgTable)) continue;
    const config = getTableConfig(value);
    if (config.name !== table) continue;
    const composite = config.primaryKeys[0];
    return composite ? composite.columns.map((c) => c.name) : config.columns.filter((c) => c.primary).map((c) => c.name);
  }
  throw new Error(`no table ${table} in the schema`);
}

/**
 * Counts keys whose rows differ (missing, extra or changed) and, if any, replaces the table's
 * content with the scratch copy.
 */
async function swapIn(tx: Queryable, table: string, scratch: Into): Promise<number> {
  const live = sql.identifier(table);
  const fresh = sql.identifier(scratch.table);
  const key = sql.join(primaryKeyOf(table).map((k) => sql.identifier(k)), sql`, `);
  const rows = await query<{ n: number }>(
    tx,
    sql`SELECT count(*) AS n FROM (
          SELECT ${key} FROM (SELECT * FROM ${live} EXCEPT SELECT * FROM ${fresh}) a
          UNION SELECT ${key} FROM (SELECT * FROM ${fresh} EXCEPT SELECT * FROM ${live}) b) d`,
  );
  const drift = rows[0]?.n ?? 0;
  if (drift > 0) {
    await tx.execute(sql`DELETE FROM ${live}`);
    await tx.execute(sql`INSERT INTO ${live} SELECT * FROM ${fresh}`);
  }
  return drift;
}
