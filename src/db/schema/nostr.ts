/**
 * The Nostr cache: events as relays gave them, the profile view, and the tables derived from
 * `nostr_events` (rebuildable by `nostr-cache stats rebuild`). Nostr timestamps stay unix seconds
 * (bigint) so they compare exactly with `since`/`until`; wall-clock columns are timestamptz.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const unixSeconds = (name: string) => bigint(name, { mode: 'number' });

export const nostrEvents = pgTable(
  'nostr_events',
  {
    eventId: text('event_id').primaryKey(),
    kind: integer('kind').notNull(),
    pubkey: text('pubkey').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
    content: text('content').notNull(),
    tagsJson: jsonb('tags_json').$type<string[][]>().notNull(),
    sig: text('sig').notNull(),
    /** NIP-22/73 canonical external id (root `I`, else parent `i`). */
    identifier: text('identifier'),
    subclaw: text('subclaw'),
    /** NIP-72 community address (`34550:<owner>:<d>`) the post belongs to. */
    community: text('community'),
    rootId: text('root_id'),
    parentId: text('parent_id'),
    /** NIP-25 reaction target: an event id (kind 7) or a canonical external id (kind 17). */
    target: text('target'),
    /** NIP-25 vote of a reaction: +1, -1, or 0 for emoji and other content. Null for other kinds. */
    vote: smallint('vote'),
    isTopLevel: boolean('is_top_level').notNull().default(false),
    isAi: boolean('is_ai').notNull().default(false),
    dTag: text('d_tag'),
    /** Replaceable/addressable key (`kind:pubkey:d`); one row per key: the winning version. */
    address: text('address'),
    expiresAt: unixSeconds('expires_at'),
    /** created_at of the earliest NIP-09 deletion by the author that covers this event. */
    deletedAt: unixSeconds('deleted_at'),
    seenAt: timestamp('seen_at', { withTimezone: true }).notNull().defaultNow(),
    /** First relay the event was seen on (null for file imports). */
    relay: text('relay'),
  },
  (t) => [
    uniqueIndex('nostr_events_address_key').on(t.address).where(sql`${t.address} IS NOT NULL`),
    // Feeds: newest top-level posts, globally, per subclaw, per community; keyset on (created_at, id).
    index('nostr_events_feed_idx')
      .on(t.createdAt.desc(), t.eventId.desc())
      .where(sql`${t.isTopLevel} AND ${t.deletedAt} IS NULL`),
    index('nostr_events_subclaw_feed_idx')
      .on(t.subclaw, t.createdAt.desc(), t.eventId.desc())
      .where(sql`${t.isTopLevel} AND ${t.subclaw} IS NOT NULL`),
    index('nostr_events_community_idx')
      .on(t.community, t.createdAt.desc(), t.eventId.desc())
      .where(sql`${t.community} IS NOT NULL`),
    // Author pages and profile/deletion lookups.
    index('nostr_events_author_idx').on(t.pubkey, t.kind, t.createdAt.desc()),
    // The relay's by-author REQ (any kind): newest first, ties lowest id, so LIMIT stops early
    // instead of sorting all of an author's events (bench/RESULTS.md, "Relay endpoint").
    index('nostr_events_author_created_idx').on(t.pubkey, t.createdAt.desc(), t.eventId),
    // A scope's stored events in a time range (NIP-77 local ids, store/local-events.ts): without it
    // each NEG-OPEN walked all of the author index (bench/RESULTS.md, "NIP-77 local ids").
    index('nostr_events_kind_created_idx').on(t.kind, t.createdAt),
    // Threads: direct replies by parent, whole trees by root.
    index('nostr_events_parent_idx').on(t.parentId).where(sql`${t.parentId} IS NOT NULL`),
    index('nostr_events_root_idx').on(t.rootId).where(sql`${t.rootId} IS NOT NULL`),
    // Reaction totals are recomputed per target; one latest reaction per reactor.
    index('nostr_events_target_idx').on(t.target, t.pubkey).where(sql`${t.target} IS NOT NULL`),
    // NIP-50 search of the relay endpoint (store/queries/relay-filter.ts uses the same expression).
    index('nostr_events_content_search_idx').using('gin', sql`to_tsvector('simple'::regconfig, ${t.content})`),
    // Expiry purge.
    index('nostr_events_expires_idx').on(t.expiresAt).where(sql`${t.expiresAt} IS NOT NULL`),
  ],
);

export const nostrProfiles = pgTable('nostr_profiles', {
  pubkey: text('pubkey').primaryKey(),
  name: text('name'),
  displayName: text('display_name'),
  picture: text('picture'),
  about: text('about'),
  nip05: text('nip05'),
  lud16: text('lud16'),
  lud06: text('lud06'),
  banner: text('banner'),
  website: text('website'),
  bot: boolean('bot'),
  /** False when the kind-0 content was not a JSON object (the fields above are then null). */
  contentValid: boolean('content_valid').notNull(),
  eventId: text('event_id').notNull(),
  /** The winning kind-0 event's created_at, not the wall clock. */
  updatedAt: unixSeconds('updated_at').notNull(),
});

/** One row per (target, reactor): that reactor's latest reaction that is neither deleted nor expired. */
export const reactions = pgTable(
  'reactions',
  {
    target: text('target').notNull(),
    reactor: text('reactor').notNull(),
    eventId: text('event_id').notNull(),
    vote: smallint('vote').notNull(),
    emoji: text('emoji').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.target, t.reactor] })],
);

/** One row per stored, undeleted zap receipt, graded rather than dropped (see ZapFields). */
export const zaps = pgTable(
  'zaps',
  {
    receiptId: text('receipt_id').primaryKey(),
    /** The LNURL server that signed the receipt. */
    receiptPubkey: text('receipt_pubkey').notNull(),
    targetEvent: text('target_event'),
    targetAddress: text('target_address'),
    recipient: text('recipient'),
    sender: text('sender'),
    senderVerified: boolean('sender_verified').notNull(),
    amountMsat: bigint('amount_msat', { mode: 'bigint' }),
    amountFromRequest: boolean('amount_from_request').notNull(),
    bolt11: text('bolt11'),
    requestId: text('request_id'),
    requestValid: boolean('request_valid').notNull(),
    amountMatches: boolean('amount_matches'),
    senderTagMatches: boolean('sender_tag_matches'),
    validity: smallint('validity').notNull(),
    comment: text('comment'),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [
    index('zaps_target_event_idx').on(t.targetEvent).where(sql`${t.targetEvent} IS NOT NULL`),
    index('zaps_recipient_idx').on(t.recipient),
  ],
);

/** Aggregates per event; a row exists only while one of its counts is non-zero. */
export const eventStats = pgTable('event_stats', {
  eventId: text('event_id').primaryKey(),
  replies: integer('replies').notNull().default(0),
  up: integer('up').notNull().default(0),
  down: integer('down').notNull().default(0),
  zapCount: integer('zap_count').notNull().default(0),
  zapMsat: bigint('zap_msat', { mode: 'bigint' }).notNull().default(sql`0`),
});

/** The latest, undeleted NIP-72 definition (kind 34550) per community address. */
export const communities = pgTable('communities', {
  address: text('address').primaryKey(),
  owner: text('owner').notNull(),
  d: text('d').notNull(),
  name: text('name'),
  description: text('description'),
  image: text('image'),
  relays: jsonb('relays').$type<string[]>().notNull(),
  eventId: text('event_id').notNull(),
  createdAt: unixSeconds('created_at').notNull(),
});

export const communityModerators = pgTable(
  'community_moderators',
  {
    address: text('address').notNull(),
    pubkey: text('pubkey').notNull(),
  },
  (t) => [primaryKey({ columns: [t.address, t.pubkey] })],
);

/**
 * One row per (undeleted kind-4550 approval, community it names). Whether it counts is decided at
 * read time against the community's current owner and moderators (view `valid_community_approvals`),
 * so removing a moderator drops their approvals without rewriting rows.
 */
export const communityApprovals = pgTable(
  'community_approvals',
  {
    approvalId: text('approval_id').notNull(),
    community: text('community').notNull(),
    postId: text('post_id'),
    postAddress: text('post_address'),
    postPubkey: text('post_pubkey'),
    postKind: integer('post_kind'),
    approver: text('approver').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.approvalId, t.community] }),
    index('community_approvals_post_idx').on(t.community, t.postId),
  ],
);

/**
 * NIP-09 deletion requests, kept so that a target arriving after its deletion stays deleted.
 * `target` is an event id (type 'e') or a coordinate `kind:pubkey:d` (type 'a'); a tombstone only
 * ever applies to events whose pubkey equals the deleter's.
 */
export const tombstones = pgTable(
  'tombstones',
  {
    deletionId: text('deletion_id').notNull(),
    targetType: text('target_type', { enum: ['e', 'a'] }).notNull(),
    target: text('target').notNull(),
    pubkey: text('pubkey').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deletionId, t.target] }), index('tombstones_target_idx').on(t.target)],
);

export const eventRelays = pgTable('event_relays', {
  eventId: text('event_id').primaryKey(),
  // One row per event, its relays in the order first seen: copies of an event that arrive from
  // several relays together become one row written with the event, not one row per relay.
  relays: text('relays').array().notNull(),
  firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
});
