/**
 * The stored side of a NIP-77 reconciliation: ids and timestamps of the events in `nostr_events`
 * that a NIP-01 filter matches within a time range. The filter is translated to SQL (ids, authors,
 * kinds, single-letter tag filters); a filter with anything else cannot be matched here, and then
 * no reconciliation is attempted.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Filter } from 'nostr-tools/filter';
import { query, type Queryable } from '../db/client.js';
import type { Range } from '../ranges.js';
import { textSet } from './derived.js';

const TAG_KEY = /^#[a-zA-Z]$/;
/** Keys that do not select events (the range replaces since/until). */
const IGNORED_KEYS = new Set(['since', 'until', 'limit']);

/** The filter's conditions on `nostr_events e`, or null when the filter has a key SQL cannot match. */
export function filterCondition(filter: Filter): SQL | null {
  const parts: SQL[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (IGNORED_KEYS.has(key) || value === undefined) continue;
    if (key === 'kinds') {
      const kinds: unknown[] = Array.isArray(value) ? value : [];
      if (!Array.isArray(value) || !kinds.every((k) => Number.isSafeInteger(k))) return null;
      parts.push(kinds.length === 0 ? sql`FALSE` : sql`e.kind IN (${sql.join(kinds.map((k) => sql`${k}::int`), sql`, `)})`);
      continue;
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return null;
    const values = value as string[];
    if (key === 'ids') parts.push(sql`e.event_id IN ${textSet(values)}`);
    else if (key === 'authors') parts.push(sql`e.pubkey IN ${textSet(values)}`);
    else if (TAG_KEY.test(key)) {
      // NIP-01: an event matches when one of its `<letter>` tags has one of the values.
      parts.push(sql`EXISTS (SELECT 1 FROM jsonb_array_elements(e.tags_json) t
                             WHERE t->>0 = ${key.slice(1)} AND t->>1 IN ${textSet(values)})`);
    } else return null; // search (NIP-50) and anything unknown
  }
  return parts.length === 0 ? sql`TRUE` : sql.join(parts, sql` AND `);
}

/**
 * Stored events matching `filter` in [since, until], or 'too_many' beyond `max` (one reconciliation
 * holds them all in memory). Throws for a filter filterCondition refuses: check it first.
 */
export async function localEventKeys(
  db: Queryable,
  filter: Filter,
  range: Range,
  max: number,
): Promise<Array<{ id: string; createdAt: number }> | 'too_many'> {
  const condition = filterCondition(filter);
  if (condition === null) throw new TypeError('filter cannot be matched against stored events');
  const rows = await query<{ id: string; createdAt: number }>(
    db,
    sql`SELECT e.event_id AS id, e.created_at AS "createdAt" FROM nostr_events e
        WHERE e.created_at BETWEEN ${range.since} AND ${range.until} AND ${condition}
        LIMIT ${max + 1}`,
  );
  if (rows.length > max) return 'too_many';
  return rows;
}
