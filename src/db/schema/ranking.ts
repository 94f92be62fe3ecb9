/**
 * Stored rankings of the feeds (src/store/ranking.ts keeps them). `post_ranking` holds one row per
 * live top-level post with its exact top score, kept by the write path like event_stats, so a
 * `sort=top` page of any window is an index range. `hot_ranking` holds snapshots of the hot order
 * (score ÷ (age hours + 2)^1.5 at the snapshot's reference time), one generation per refresh, so a
 * hot page is an index range too and a cursor can stay on the generation it started on.
 */
import { bigint, boolean, index, integer, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

const unixSeconds = (name: string) => bigint(name, { mode: 'number' });

/** One row per top-level post that is neither deleted nor purged; expiry is checked at read time. */
export const postRanking = pgTable(
  'post_ranking',
  {
    eventId: text('event_id').primaryKey(),
    createdAt: unixSeconds('created_at').notNull(),
    subclaw: text('subclaw'),
    community: text('community'),
    isAi: boolean('is_ai').notNull(),
    expiresAt: unixSeconds('expires_at'),
    /** up − down + 2·replies + msat/10000, exact (scale 4), from event_stats. */
    score: numeric('score').notNull(),
  },
  (t) => [
    index('post_ranking_top_idx').on(t.score.desc(), t.createdAt.desc(), t.eventId.desc()),
    index('post_ranking_subclaw_top_idx')
      .on(t.subclaw, t.score.desc(), t.createdAt.desc(), t.eventId.desc())
      .where(sql`${t.subclaw} IS NOT NULL`),
    index('post_ranking_community_top_idx')
      .on(t.community, t.score.desc(), t.createdAt.desc(), t.eventId.desc())
      .where(sql`${t.community} IS NOT NULL`),
    // Narrow windows (an hour, a day): the window's posts by time, then sorted by score.
    index('post_ranking_created_idx').on(t.createdAt.desc(), t.eventId.desc()),
  ],
);

/** One row per hot snapshot: its reference time. Old generations are dropped after a while. */
export const rankingGenerations = pgTable('ranking_generations', {
  generation: integer('generation').primaryKey(),
  /** Reference time (unix seconds) of the snapshot's hot scores and of its windows. */
  ref: unixSeconds('ref').notNull(),
  builtAt: timestamp('built_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The hot order of one generation; a row is served only while its post is in post_ranking. */
export const hotRanking = pgTable(
  'hot_ranking',
  {
    generation: integer('generation').notNull(),
    eventId: text('event_id').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
    subclaw: text('subclaw'),
    community: text('community'),
    isAi: boolean('is_ai').notNull(),
    /** Hot score at the generation's ref, rounded to 9 decimals (as the live query rounds it). */
    hot: numeric('hot').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.generation, t.eventId] }),
    index('hot_ranking_hot_idx').on(t.generation, t.hot.desc(), t.createdAt.desc(), t.eventId.desc()),
    index('hot_ranking_subclaw_hot_idx')
      .on(t.generation, t.subclaw, t.hot.desc(), t.createdAt.desc(), t.eventId.desc())
      .where(sql`${t.subclaw} IS NOT NULL`),
    index('hot_ranking_community_hot_idx')
      .on(t.generation, t.community, t.hot.desc(), t.createdAt.desc(), t.eventId.desc())
      .where(sql`${t.community} IS NOT NULL`),
  ],
);
