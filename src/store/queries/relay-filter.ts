/**
 * NIP-01 filters as SQL, for the relay endpoint: one statement per filter, driven by one index, over
 * exactly the events the HTTP API serves (live: not deleted, not expired; replaced versions are not
 * stored at all). Kind-5 deletions are ordinary stored events and are served.
 *
 * Which index drives a filter (`drivingIndex`), in order of selectivity:
 *   ids     -> nostr_events primary key
 *   search  -> the GIN index on to_tsvector('simple', content) (NIP-50, ranked by ts_rank)
 *   #tag    -> nostr_event_tags (name, value, kind, created_at DESC): ordered for one value and kind
 *   authors -> nostr_events_author_idx (pubkey, kind, created_at DESC)
 *   kinds   -> nostr_events_kind_created_idx (kind, created_at)
 * A filter with none of these (only since/until/limit) would read the whole table: it is refused.
 * Results are newest first, ties lowest id (search: best rank first); an index ordered by
 * created_at alone still serves that through an incremental sort of each second's ties.
 */
import { sql, type SQL } from 'drizzle-orm';
import { query, type Queryable } from '../../db/client.js';
import type { SqlRow } from '../../db/rows.js';
import type { nostrEvents } from '../../db/schema/nostr.js';
import { limitLiteral, live } from './posts.js';

/** A filter already checked for shape (api/relay/filter.ts): lowercase hex, integer kinds and times. */
export interface RelayFilter {
  ids?: string[];
  authors?: string[];
  kinds?: number[];
  /** `#<letter>` conditions: each tag name (case kept: `I` and `i` differ) with its values. */
  tags: Array<{ name: string; values: string[] }>;
  since?: number;
  until?: number;
  limit?: number;
  search?: string;
}

export interface StoredEvent {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
  sig: string;
}

/**
 * A stored event as the relay sends it: `json` is the event's NIP-01 JSON text, built by the database
 * (no parse of the tags and re-serialisation per REQ), with the two fields the relay orders and
 * de-duplicates by.
 */
export interface StoredFrame {
  id: string;
  created_at: number;
  json: string;
}

/** A committed event for live delivery: matched in memory (the fields), sent as `json` (built once). */
export interface LiveEvent extends StoredEvent {
  json: string;
}

export type DrivingIndex = 'ids' | 'search' | 'tag' | 'authors' | 'kinds';

/** Tag values longer than this are not in nostr_event_tags (migration 0006): filters on them are refused. */
export const MAX_INDEXED_TAG_VALUE_BYTES = 512;

/** The index that serves the filter, or null when only a scan of every event could. */
export function drivingIndex(f: RelayFilter): DrivingIndex | null {
  if (f.ids) return 'ids';
  if (f.search !== undefined) return 'search';
  if (f.tags.length > 0) return 'tag';
  if (f.authors) return 'authors';
  if (f.kinds) return 'kinds';
  return null;
}

/** True when some field has no values at all: nothing can match, no query needed. */
export function matchesNothing(f: RelayFilter): boolean {
  return f.ids?.length === 0 || f.authors?.length === 0 || f.kinds?.length === 0 || f.tags.some((t) => t.values.length === 0) ||
    (f.since !== undefined && f.until !== undefined && f.since > f.until);
}

const SEARCH_CONFIG = sql.raw(`'simple'::regconfig`);
const TSVECTOR = sql`to_tsvector(${SEARCH_CONFIG}, e.content)`;
const EVENT_COLUMNS = sql`e.event_id, e.pubkey, e.created_at, e.kind, e.tags_json, e.content, e.sig`;
/**
 * The event's JSON text in NIP-01's field order. id, pubkey and sig are lowercase hex (checked at
 * ingest), kind and created_at numbers, so only content needs JSON escaping (to_json) and tags are
 * jsonb's own text form.
 */
const EVENT_JSON = sql.raw(
  `'{"id":"' || e.event_id || '","pubkey":"' || e.pubkey || '","created_at":' || e.created_at || ',"kind":' || e.kind ||` +
    ` ',"tags":' || e.tags_json::text || ',"content":' || to_json(e.content)::text || ',"sig":"' || e.sig || '"}'`,
);

function list(values: readonly (string | number)[]): SQL {
  return sql`(${sql.join(values.map((v) => sql`${v}`), sql`, `)})`;
}

/** `column = v` for one value (keeps the index range exact and ordered), `IN (...)` for several. */
function oneOf(column: SQL, values: readonly (string | number)[]): SQL {
  return values.length === 1 ? sql`${column} = ${values[0]}` : sql`${column} IN ${list(values)}`;
}

/**
 * NIP-50 extensions (`key:value` tokens such as `language:en`) are not supported and, as NIP-50
 * asks, ignored; the rest is a web-search style query (words AND, "phrases", -not, or).
 */
export function searchText(search: string): string {
  return search
    .split(/\s+/)
    .filter((w) => !/^(include|domain|language|sentiment|nsfw):/i.test(w))
    .join(' ');
}

function tsQuery(search: string): SQL {
  return sql`websearch_to_tsquery(${SEARCH_CONFIG}, ${searchText(search)})`;
}

const BY_EVENT = sql`nostr_events e`;

interface Parts {
  from: SQL;
  where: SQL[];
  /** created_at / event_id of the driving rows (the tag table's copies when a tag drives). */
  createdAt: SQL;
  eventId: SQL;
}

function parts(f: RelayFilter, now: number): Parts {
  const index = drivingIndex(f);
  if (index === null) throw new Error('filter has no index to serve it');
  const where: SQL[] = [live('e', now)];
  let from = BY_EVENT;
  let createdAt = sql`e.created_at`;
  let eventId = sql`e.event_id`;
  let tags = f.tags;
  if (index === 'tag') {
    // Drive by the tag with the fewest values; the others are probes of the tag table's primary key.
    const driver = [...f.tags].sort((a, b) => a.values.length - b.values.length)[0]!;
    tags = f.tags.filter((t) => t !== driver);
    const tagWhere = [sql`t.name = ${driver.name}`, oneOf(sql`t.value`, driver.values)];
    if (f.kinds) tagWhere.push(oneOf(sql`t.kind`, f.kinds));
    if (f.since !== undefined) tagWhere.push(sql`t.created_at >= ${f.since}`);
    if (f.until !== undefined) tagWhere.push(sql`t.created_at <= ${f.until}`);
    if (driver.values.length === 1) {
      // One value: each event has at most one row (primary key), so a join cannot repeat events.
      from = sql`nostr_event_tags t JOIN nostr_events e ON e.event_id = t.event_id`;
      where.push(...tagWhere);
      createdAt = sql`t.created_at`;
      eventId = sql`t.event_id`;
    } else {
      where.push(sql`e.event_id IN (SELECT t.event_id FROM nostr_event_tags t WHERE ${sql.join(tagWhere, sql` AND `)})`);
    }
  }
  // A single-value tag join already checks kind and time on the tag row (exact copies of the
  // event's): repeating them on e would make the planner count their selectivity twice, expect
  // fewer rows than the LIMIT and sort every match instead of reading the index in order.
  const onTagRow = from !== BY_EVENT;
  if (f.ids) where.push(oneOf(sql`e.event_id`, f.ids));
  if (f.authors) where.push(oneOf(sql`e.pubkey`, f.authors));
  if (f.kinds && !onTagRow) where.push(oneOf(sql`e.kind`, f.kinds));
  if (f.since !== undefined && !onTagRow) where.push(sql`e.created_at >= ${f.since}`);
  if (f.until !== undefined && !onTagRow) where.push(sql`e.created_at <= ${f.until}`);
  for (const t of tags) {
    where.push(sql`EXISTS (SELECT 1 FROM nostr_event_tags x WHERE x.event_id = e.event_id AND x.name = ${t.name} AND ${oneOf(sql`x.value`, t.values)})`);
  }
  if (f.search !== undefined) where.push(sql`${TSVECTOR} @@ ${tsQuery(f.search)}`);
  return { from, where, createdAt, eventId };
}

/** The statement of one filter (exported for EXPLAIN in tests and docs). */
export function filterStatement(f: RelayFilter, now: number, limit: number): SQL {
  return filterSelect(f, now, limit, sql`e.event_id, e.created_at, ${EVENT_JSON} AS json`);
}

function filterSelect(f: RelayFilter, now: number, limit: number, columns: SQL): SQL {
  const p = parts(f, now);
  // created_at is never null, but the planner matches an index's order only with its NULLS side
  // spelled the same: the tag and author indexes are DESC NULLS LAST, the kind index is ASC (read
  // backwards: DESC NULLS FIRST).
  const nulls = sql.raw(drivingIndex(f) === 'kinds' ? 'NULLS FIRST' : 'NULLS LAST');
  const order =
    f.search !== undefined
      ? sql`ts_rank(${TSVECTOR}, ${tsQuery(f.search)}) DESC, e.created_at DESC, e.event_id ASC`
      : sql`${p.createdAt} DESC ${nulls}, ${p.eventId} ASC`;
  return sql`SELECT ${columns} FROM ${p.from} WHERE ${sql.join(p.where, sql` AND `)} ORDER BY ${order} ${limitLiteral(limit)}`;
}

type EventRow = Pick<SqlRow<typeof nostrEvents>, 'event_id' | 'pubkey' | 'created_at' | 'kind' | 'tags_json' | 'content' | 'sig'>;

function toLiveEvent(r: EventRow & { json: string }): LiveEvent {
  return {
    id: r.event_id,
    pubkey: r.pubkey,
    created_at: r.created_at,
    kind: r.kind,
    tags: r.tags_json,
    content: r.content,
    sig: r.sig,
    json: r.json,
  };
}

/** The stored events of one filter, at most `limit`, newest first (search: best rank first). */
export async function eventsForFilter(db: Queryable, f: RelayFilter, now: number, limit: number): Promise<StoredFrame[]> {
  if (limit <= 0 || matchesNothing(f)) return [];
  const rows = await query<{ event_id: string; created_at: number | string; json: string }>(db, filterStatement(f, now, limit));
  return rows.map((r) => ({ id: r.event_id, created_at: Number(r.created_at), json: r.json }));
}

/** NIP-45: how many served events match any of the filters (an event matching two counts once). */
export async function countForFilters(db: Queryable, filters: RelayFilter[], now: number): Promise<number> {
  const selects = filters
    .filter((f) => !matchesNothing(f))
    .map((f) => {
      const p = parts(f, now);
      return sql`SELECT e.event_id FROM ${p.from} WHERE ${sql.join(p.where, sql` AND `)}`;
    });
  if (selects.length === 0) return 0;
  const inner = selects.length === 1 ? selects[0]! : sql.join(selects, sql` UNION `);
  const rows = await query<{ n: number }>(db, sql`SELECT count(*) AS n FROM (${inner}) c`);
  return rows[0]?.n ?? 0;
}

/** The served events among `ids` (live delivery: what a commit announced, minus what is gone since). */
export async function liveEventsByIds(db: Queryable, ids: readonly string[], now: number): Promise<LiveEvent[]> {
  if (ids.length === 0) return [];
  const rows = await query<EventRow & { json: string }>(
    db,
    sql`SELECT ${EVENT_COLUMNS}, ${EVENT_JSON} AS json FROM nostr_events e WHERE e.event_id IN ${list(ids)} AND ${live('e', now)}`,
  );
  return rows.map(toLiveEvent);
}

/** Which of `ids` a NIP-50 search matches (live delivery of search subscriptions). */
export async function searchMatchesAmong(db: Queryable, ids: readonly string[], search: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await query<{ event_id: string }>(
    db,
    sql`SELECT e.event_id FROM nostr_events e WHERE e.event_id IN ${list(ids)} AND ${TSVECTOR} @@ ${tsQuery(search)}`,
  );
  return new Set(rows.map((r) => r.event_id));
}
