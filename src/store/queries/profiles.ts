/** Kind-0 profiles as cached in nostr_profiles (the winning, undeleted version per pubkey). */
import { sql } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import { textSet } from '../derived.js';

export interface ProfileRow {
  pubkey: string;
  name: string | null;
  display_name: string | null;
  picture: string | null;
  about: string | null;
  nip05: string | null;
  lud16: string | null;
  lud06: string | null;
  banner: string | null;
  website: string | null;
  bot: boolean | null;
  content_valid: boolean;
  event_id: string;
  updated_at: number | string;
}

const COLUMNS = sql`pubkey, name, display_name, picture, about, nip05, lud16, lud06, banner, website, bot,
  content_valid, event_id, updated_at`;

export async function profilesByPubkeys(db: Queryable, pubkeys: string[]): Promise<ProfileRow[]> {
  if (pubkeys.length === 0) return [];
  if (pubkeys.length === 1) {
    return query<ProfileRow>(db, sql`SELECT ${COLUMNS} FROM nostr_profiles WHERE pubkey = ${pubkeys[0]!}`);
  }
  return query<ProfileRow>(db, sql`SELECT ${COLUMNS} FROM nostr_profiles WHERE pubkey IN ${textSet(pubkeys)}`);
}
