/** NIP-72 communities: the latest definition per address, its moderators, and post counts. */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import type { SqlRow } from '../../db/rows.js';
import type { communities } from '../../db/schema/nostr.js';
import { isPost, live, limitLiteral } from './posts.js';

/** A communities row, with its moderators (jsonb_agg) and live post counts. */
export type CommunityRow = SqlRow<typeof communities> & {
  moderators: string[];
  post_count: number;
  last_post_at: number | null;
};

function selectCommunities(now: number) {
  return sql`SELECT c.address, c.owner, c.d, c.name, c.description, c.image, c.relays, c.event_id, c.created_at,
      COALESCE((SELECT jsonb_agg(m.pubkey ORDER BY m.pubkey) FROM community_moderators m WHERE m.address = c.address), '[]'::jsonb) AS moderators,
      ps.post_count, ps.last_post_at
    FROM communities c
    LEFT JOIN LATERAL (
      SELECT count(*) AS post_count, max(e.created_at) AS last_post_at FROM nostr_events e
      WHERE e.community = c.address AND ${isPost('e')} AND ${live('e', now)}
    ) ps ON TRUE`;
}

/** Communities in address order, after `afterAddress`. */
export async function communitiesPage(
  db: Queryable,
  q: { now: number; afterAddress?: string | undefined; limit: number },
): Promise<CommunityRow[]> {
  const keyset = q.afterAddress !== undefined ? sql`WHERE c.address > ${q.afterAddress}` : sql``;
  return query<CommunityRow>(db, sql`${selectCommunities(q.now)} ${keyset} ORDER BY c.address ${limitLiteral(q.limit)}`);
}

export async function communityByAddress(db: Queryable, address: string, now: number): Promise<CommunityRow | null> {
  const rows = await query<CommunityRow>(db, sql`${selectCommunities(now)} WHERE c.address = ${address}`);
  return rows[0] ?? null;
}
