/**
 * Test helpers over the real store: write events as the pipeline would (normalise + writeBatch),
 * and dump the cache canonically (arrival-dependent columns left out) to compare databases.
 */
import { sql } from 'drizzle-orm';
import { verifyEvent } from 'nostr-tools/pure';
import { query, type AppDatabase } from '../../src/db/client.js';
import { normalizeEvent } from '../../src/nostr/normalize/index.js';
import type { NormalizeOptions, NostrEvent } from '../../src/nostr/types.js';
import { writeBatch, type WriteResult } from '../../src/store/write-batch.js';

export const testNormalizeOptions: NormalizeOptions = {
  subclawBases: ['clawstr.com'],
  verifyEmbedded: (event) => verifyEvent({ ...event }),
};

/** Writes events in batches of `batchSize` (or sizes drawn by `nextSize`), as the pipeline would. */
export async function storeEvents(
  db: AppDatabase,
  events: readonly NostrEvent[],
  options: { batchSize?: number; nextSize?: () => number; relay?: string | null } = {},
): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  let i = 0;
  while (i < events.length) {
    const size = options.nextSize ? options.nextSize() : (options.batchSize ?? 500);
    const batch = events.slice(i, i + size).map((e) => normalizeEvent(e, testNormalizeOptions));
    results.push(await writeBatch(db, batch, { normalizeOptions: testNormalizeOptions, relay: options.relay ?? null }));
    i += size;
  }
  return results;
}

/** Tables and their canonical ordering; arrival-dependent columns (seen_at, relay) are left out. */
const DUMP: Record<string, { columns: string; order: string }> = {
  nostr_events: {
    columns: `event_id, kind, pubkey, created_at, content, tags_json, sig, identifier, subclaw, community, root_id,
              parent_id, target, vote, is_top_level, is_ai, d_tag, address, expires_at, deleted_at`,
    order: 'event_id',
  },
  nostr_profiles: { columns: '*', order: 'pubkey' },
  reactions: { columns: '*', order: 'target, reactor' },
  zaps: { columns: '*', order: 'receipt_id' },
  event_stats: { columns: '*', order: 'event_id' },
  communities: { columns: '*', order: 'address' },
  community_moderators: { columns: '*', order: 'address, pubkey' },
  community_approvals: { columns: '*', order: 'approval_id, community' },
  tombstones: { columns: '*', order: 'deletion_id, target' },
  post_ranking: { columns: '*', order: 'event_id' },
};

export async function canonicalDump(db: AppDatabase): Promise<Record<string, string>> {
  const dump: Record<string, string> = {};
  for (const [table, { columns, order }] of Object.entries(DUMP)) {
    const rows = await query<Record<string, unknown>>(
      db,
      sql.raw(`SELECT ${columns} FROM ${table} ORDER BY ${order}`),
    );
    // Dumps are compared within one engine, so each driver's value types are consistent.
    dump[table] = JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  }
  return dump;
}

/** A small seeded PRNG (mulberry32) for reproducible shuffles. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
