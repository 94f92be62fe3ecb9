/**
 * What the NIP-01 relay endpoint reads besides nostr_events: one row per single-letter tag of a
 * stored event, so that a `#<letter>` filter is an ordered index range (name, value, kind, newest
 * first) rather than a scan of every event's tags. Filled by a statement-level trigger on
 * nostr_events (custom migration 0006) and removed with its event by another (no foreign key: its
 * check would cost an index probe per tag row on every write); `kind` and
 * `created_at` are copied so the index alone orders and narrows a REQ.
 */
import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

export const nostrEventTags = pgTable(
  'nostr_event_tags',
  {
    eventId: text('event_id').notNull(),
    name: text('name').notNull(),
    value: text('value').notNull(),
    kind: integer('kind').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.name, t.value] }),
    // Exactly the REQ order (newest first, ties lowest id) for one tag value and kind: a LIMIT stops early.
    index('nostr_event_tags_lookup_idx').on(t.name, t.value, t.kind, t.createdAt.desc(), t.eventId),
  ],
);

/** NIP-50 search reads this expression; keep it identical in queries (store/queries/relay-filter.ts). */
export const CONTENT_TSVECTOR = sql`to_tsvector('simple'::regconfig, content)`;
