/**
 * The reads ingest makes of the event store: which ids of a batch are stored already, and under which signature (dedupe), and
 * the keys batched scopes follow (recent post ids, recent authors).
 */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../db/client.js';
import { textSet } from './derived.js';

/** The ids among `ids` that are stored, each with its stored signature. */
export async function storedEventSigs(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await query<{ event_id: string; sig: string }>(db, sql`SELECT event_id, sig FROM nostr_events WHERE event_id IN ${textSet(ids)}`);
  return new Map(rows.map((r) => [r.event_id, r.sig]));
}

/** Ids of the newest top-level posts created at or after `after` (unix seconds), newest first. */
export async function recentPostIds(db: Queryable, after: number, limit: number): Promise<string[]> {
  const rows = await query<{ key: string }>(
    db,
    sql`SELECT event_id AS key FROM nostr_events WHERE is_top_level AND deleted_at IS NULL AND created_at >= ${after}
        ORDER BY created_at DESC LIMIT ${limit}`,
  );
  return rows.map((r) => r.key);
}

/** Authors who published at or after `after` (unix seconds), the most recently active first. */
export async function recentAuthors(db: Queryable, after: number, limit: number): Promise<string[]> {
  const rows = await query<{ key: string }>(
    db,
    sql`SELECT pubkey AS key FROM nostr_events WHERE created_at >= ${after}
        GROUP BY pubkey ORDER BY max(created_at) DESC LIMIT ${limit}`,
  );
  return rows.map((r) => r.key);
}
