/**
 * Ingest state: what the daemon knows about each relay, and which time ranges of each
 * (relay, scope) subscription are proven complete (EOSE received and events committed).
 */
import { bigint, boolean, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const relays = pgTable('relays', {
  url: text('url').primaryKey(),
  /** connecting | connected | backoff | open_circuit | disabled */
  status: text('status').notNull().default('idle'),
  failures: integer('failures').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  lastConnectedAt: timestamp('last_connected_at', { withTimezone: true }),
  lastEventAt: timestamp('last_event_at', { withTimezone: true }),
  lastError: text('last_error'),
  /** The NIP-11 document as fetched. */
  nip11: jsonb('nip11'),
  nip11FetchedAt: timestamp('nip11_fetched_at', { withTimezone: true }),
  /** Learned behaviour: honoured page limit, whether `until` is respected, REQ ceiling, ... */
  learned: jsonb('learned').$type<Record<string, unknown>>().notNull().default({}),
  authRequired: boolean('auth_required').notNull().default(false),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A closed range [since, until] (unix seconds, inclusive) proven complete for (relay, scope). */
export const coverageRanges = pgTable(
  'coverage_ranges',
  {
    relay: text('relay').notNull(),
    scope: text('scope').notNull(),
    since: bigint('since', { mode: 'number' }).notNull(),
    until: bigint('until', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.relay, t.scope, t.since] })],
);

/**
 * When each piece of a (relay, scope)'s coverage was last proven by backfill, hole repair or a
 * settle-window re-check (unix seconds), written in the transaction that records the coverage.
 * Coverage without a row here was proven live, as it happened: the settle window takes its own
 * start as its proof time (a lower bound). Touching pieces proven within a minute are joined.
 */
export const coverageProofs = pgTable(
  'coverage_proofs',
  {
    relay: text('relay').notNull(),
    scope: text('scope').notNull(),
    since: bigint('since', { mode: 'number' }).notNull(),
    until: bigint('until', { mode: 'number' }).notNull(),
    provenAt: bigint('proven_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.relay, t.scope, t.since] })],
);

/**
 * The earliest second a (relay, scope) is wanted covered from while that start is not proven: a
 * live answer the relay may have capped proves only its newer part. The stretch from here to the
 * first covered range is repaired like a hole, also after a restart; the row goes once it is covered.
 */
export const coverageWanted = pgTable(
  'coverage_wanted',
  {
    relay: text('relay').notNull(),
    scope: text('scope').notNull(),
    since: bigint('since', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.relay, t.scope] })],
);

/**
 * Heartbeats of the daemons' lock sessions: each daemon renews its row every ownership interval from
 * the session that holds its relay locks (keyed by that session's backend pid, times from the
 * database clock). A row past `expires_at` belongs to a hung or partitioned daemon: another daemon
 * ends that session from the database side (pg_terminate_backend), which releases its relay locks.
 */
export const daemonLeases = pgTable('daemon_leases', {
  pid: integer('pid').primaryKey(),
  /** Random per process, for logs: which daemon a pid was. */
  daemonId: text('daemon_id').notNull(),
  renewedAt: timestamp('renewed_at', { withTimezone: true }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/**
 * An explicit hole: [since, until] of a (relay, scope) that a live answer the relay may have capped
 * did not prove (recorded from that answer's EOSE on, in the transaction of its events). The row
 * stays, reported in health and readiness, until exactly that interval is proven by paging or
 * NIP-77; the live tick never covers it.
 */
export const coverageHoles = pgTable(
  'coverage_holes',
  {
    relay: text('relay').notNull(),
    scope: text('scope').notNull(),
    since: bigint('since', { mode: 'number' }).notNull(),
    until: bigint('until', { mode: 'number' }).notNull(),
    foundAt: timestamp('found_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.relay, t.scope, t.since, t.until] })],
);
