/**
 * Committed writes announce themselves to every process reading the same database (the response
 * caches of `serve` and `start`): a NOTIFY issued inside the write transaction is delivered when it
 * commits, and never when it rolls back, so a listener hears of exactly the writes readers can see.
 */
import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';

export const CHANGES_CHANNEL = 'nostr_cache_changes';

/** Call inside a transaction that changed what the read API serves. */
export async function announceChange(tx: Queryable): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${CHANGES_CHANNEL}, '')`);
}
