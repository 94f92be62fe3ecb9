/** Kind-0 profiles as cached in nostr_profiles (the winning, undeleted version per pubkey). */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import type { SqlRow } from '../../db/rows.js';
import type { nostrProfiles } from '../../db/schema/nostr.js';
import { textSet } from '../derived.js';

/** A nostr_profiles row, every column (COLUMNS below). */
export type ProfileRow = SqlRow<typeof nostrProfiles>;

const COLUMNS = sql`pubkey, name, display_name, picture, about, nip05, lud16, lud06, banner, website, bot,
  content_valid, event_id, updated_at`;

export async function profilesByPubkeys(db: Queryable, pubkeys: string[]): Promise<ProfileRow[]> {
  if (pubkeys.length === 0) return [];
  if (pubkeys.length === 1) {
    return query<ProfileRow>(db, sql`SELECT ${COLUMNS} FROM nostr_profiles WHERE pubkey = ${pubkeys[0]!}`);
  }
  return query<ProfileRow>(db, sql`SELECT ${COLUMNS} FROM nostr_profiles WHERE pubkey IN ${textSet(pubkeys)}`);
}
