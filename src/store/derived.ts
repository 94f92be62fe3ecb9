/**
 * The derived tables, each defined once as a function of `nostr_events` (and of the tombstones kept
 * beside it). `writeBatch` recomputes only the keys a batch touched; `stats rebuild` recomputes every
 * key into scratch tables and compares. Because both use the same definitions, and every definition
 * is a pure function of the stored event set, the final state cannot depend on arrival order.
 */
import { sql, type SQL } from 'drizzle-orm';
import { query, type Queryable } from '../db/client.js';
import type { SqlRow } from '../db/rows.js';
import type { nostrEvents } from '../db/schema/nostr.js';
import { normalizeEvent } from '../nostr/normalize/index.js';
import { parseProfile } from '../nostr/normalize/nip01-profile.js';
import { parseCommunityDefinition } from '../nostr/normalize/nip72-community.js';
import type { NormalizeOptions, NostrEvent } from '../nostr/types.js';
import { approvalRecords, tombstoneRecords, zapRecord } from './rows.js';
import type { StatDeltaRecord } from './stat-deltas.js';

/** A JSON array parameter expanded to a set of text values; one parameter whatever its length. */
export function textSet(values: Iterable<string>): SQL {
  return sql`(SELECT json_array_elements_text(${JSON.stringify([...new Set(values)])}::json))`;
}

/** A batch as one `json` parameter: parsed once by Postgres (json, unlike jsonb, is not converted). */
export function jsonParam(value: unknown): SQL {
  return sql`${JSON.stringify(value)}::json`;
}

/** Where recomputed rows go: the live table, or a scratch copy during a rebuild. */
export type Into = { table: string };
const live = (table: string): Into => ({ table });

/** `keys` restricts a recompute to the given keys; `null` means every key (full rebuild). */
type Keys = string[] | null;

async function clearKeys(tx: Queryable, into: Into, keyColumn: string, keys: Keys): Promise<void> {
  if (keys === null) return; // rebuild targets start empty
  await tx.execute(sql`DELETE FROM ${sql.identifier(into.table)} WHERE ${sql.identifier(keyColumn)} IN ${textSet(keys)}`);
}

/** One reactor's vote on one target: the unit a NIP-25 recompute works on. */
export interface ReactionPair {
  target: string;
  reactor: string;
}

/**
 * NIP-25 totals count one vote per (reactor, target): the reactor's latest live reaction, ties to
 * the lowest id. `emoji` keeps the content, with empty content meaning '+'. The write path passes
 * the (target, reactor) pairs a batch touched, so a popular post's other votes are left as they are,
 * and gets back the vote rows removed and written (for event_stats' deltas).
 */
export async function recomputeReactions(
  tx: Queryable,
  pairs: ReactionPair[] | null,
  into: Into = live('reactions'),
): Promise<VoteChange[]> {
  const table = sql.identifier(into.table);
  const pick = sql`e.event_id, e.vote, COALESCE(NULLIF(e.content, ''), '+'), e.created_at`;
  if (pairs === null) {
    await tx.execute(sql`
      INSERT INTO ${table} (target, reactor, event_id, vote, emoji, created_at)
      SELECT DISTINCT ON (e.target, e.pubkey) e.target, e.pubkey, ${pick}
      FROM nostr_events e
      WHERE e.target IS NOT NULL AND e.vote IS NOT NULL AND e.deleted_at IS NULL
      ORDER BY e.target, e.pubkey, e.created_at DESC, e.event_id ASC`);
    return [];
  }
  if (pairs.length === 0) return [];
  const keys = sql`(SELECT DISTINCT p.target, p.reactor FROM json_to_recordset(${jsonParam(pairs)}) AS p(target text, reactor text))`;
  const removed = await query<VoteRow>(
    tx,
    sql`DELETE FROM ${table} r USING ${keys} k WHERE r.target = k.target AND r.reactor = k.reactor RETURNING r.target, r.vote`,
  );
  // One probe of nostr_events(target, pubkey) per pair, whatever the planner thinks of the table.
  const added = await query<VoteRow>(
    tx,
    sql`
    INSERT INTO ${table} (target, reactor, event_id, vote, emoji, created_at)
    SELECT k.target, k.reactor, v.* FROM ${keys} k CROSS JOIN LATERAL (
      SELECT ${pick} FROM nostr_events e
      WHERE e.target = k.target AND e.pubkey = k.reactor AND e.vote IS NOT NULL AND e.deleted_at IS NULL
      ORDER BY e.created_at DESC, e.event_id ASC LIMIT 1) v
    RETURNING target, vote`,
  );
  return [...removed.map((r) => ({ ...r, sign: -1 as const })), ...added.map((r) => ({ ...r, sign: 1 as const }))];
}

/** A vote row that a pair recompute removed (-1) or wrote (+1). */
export interface VoteChange {
  target: string;
  vote: number;
  sign: 1 | -1;
}

interface VoteRow {
  target: string;
  vote: number;
}

/**
 * Adds a batch's deltas to event_stats (see stat-deltas.ts), then drops rows that fell to zero:
 * rows exist only while non-zero, as in recomputeStats.
 */
export async function applyStatDeltas(tx: Queryable, deltas: StatDeltaRecord[]): Promise<void> {
  if (deltas.length === 0) return;
  await tx.execute(sql`
    INSERT INTO event_stats AS s (event_id, replies, up, down, zap_count, zap_msat)
    SELECT * FROM json_to_recordset(${jsonParam(deltas)})
      AS d(event_id text, replies integer, up integer, down integer, zap_count integer, zap_msat bigint)
    ON CONFLICT (event_id) DO UPDATE SET
      replies = s.replies + excluded.replies, up = s.up + excluded.up, down = s.down + excluded.down,
      zap_count = s.zap_count + excluded.zap_count, zap_msat = s.zap_msat + excluded.zap_msat`);
  await tx.execute(sql`
    DELETE FROM event_stats WHERE replies = 0 AND up = 0 AND down = 0 AND zap_count = 0
      AND event_id IN ${textSet(deltas.map((d) => d.event_id))}`);
}

/**
 * Per-event aggregates, the definition of event_stats: direct NIP-22 replies, up/down votes from
 * `reactions`, and zaps whose validity is at least 2 (signed request, consistent amount). Rows
 * exist only while non-zero. Used by `stats rebuild`; the write path adds deltas instead
 * (applyStatDeltas), which rebuild checks against this recount.
 */
export async function recomputeStats(tx: Queryable, into: Into = live('event_stats')): Promise<void> {
  const table = sql.identifier(into.table);
  await tx.execute(sql`
    INSERT INTO ${table} (event_id, replies)
    SELECT parent_id, count(*) FROM nostr_events
    WHERE kind = 1111 AND parent_id IS NOT NULL AND deleted_at IS NULL
    GROUP BY parent_id`);
  await tx.execute(sql`
    INSERT INTO ${table} (event_id, up, down)
    SELECT target, count(*) FILTER (WHERE vote = 1), count(*) FILTER (WHERE vote = -1) FROM reactions
    GROUP BY target
    ON CONFLICT (event_id) DO UPDATE SET up = excluded.up, down = excluded.down`);
  await tx.execute(sql`
    INSERT INTO ${table} (event_id, zap_count, zap_msat)
    SELECT target_event, count(*), COALESCE(sum(amount_msat), 0) FROM zaps
    WHERE target_event IS NOT NULL AND validity >= 2
    GROUP BY target_event
    ON CONFLICT (event_id) DO UPDATE SET zap_count = excluded.zap_count, zap_msat = excluded.zap_msat`);
  await tx.execute(sql`DELETE FROM ${table} WHERE replies = 0 AND up = 0 AND down = 0 AND zap_count = 0`);
}

type EventRow = Pick<SqlRow<typeof nostrEvents>, 'event_id' | 'kind' | 'pubkey' | 'created_at' | 'content' | 'tags_json' | 'sig' | 'deleted_at'>;

function rowToEvent(row: EventRow): NostrEvent {
  return {
    id: row.event_id,
    kind: row.kind,
    pubkey: row.pubkey,
    created_at: row.created_at,
    content: row.content,
    tags: row.tags_json,
    sig: row.sig,
  };
}

const EVENT_ROW_COLUMNS = sql`e.event_id, e.kind, e.pubkey, e.created_at, e.content, e.tags_json, e.sig, e.deleted_at`;

/**
 * Visits stored events matching `where` (over alias `e`). With `keys`, only events whose `keyColumn`
 * is one of them, found by one index probe per key (a write batch touches a bounded set). Without,
 * every match, a page at a time in event_id order, so a rebuild over millions of rows never holds
 * them all.
 */
async function forEachEvent(
  tx: Queryable,
  where: SQL,
  visit: (event: NostrEvent, row: EventRow) => void,
  keyed?: { column: 'pubkey' | 'address'; keys: string[] },
  pageSize = 2000,
): Promise<void> {
  if (keyed) {
    const rows = await query<EventRow>(
      tx,
      sql`SELECT ${EVENT_ROW_COLUMNS}
          FROM ${textSet(keyed.keys)} AS keys(k)
          JOIN nostr_events e ON e.${sql.identifier(keyed.column)} = keys.k
          WHERE ${where}`,
    );
    for (const row of rows) visit(rowToEvent(row), row);
    return;
  }
  let after = '';
  for (;;) {
    const rows = await query<EventRow>(
      tx,
      sql`SELECT ${EVENT_ROW_COLUMNS} FROM nostr_events e WHERE ${where} AND e.event_id > ${after}
          ORDER BY e.event_id LIMIT ${pageSize}`,
    );
    for (const row of rows) visit(rowToEvent(row), row);
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.event_id;
  }
}

const keyedBy = (column: 'pubkey' | 'address', keys: Keys) => (keys === null ? undefined : { column, keys });

/** nostr_profiles: the winning kind-0 per pubkey when it is not deleted. */
export async function recomputeProfiles(
  tx: Queryable,
  pubkeys: Keys,
  into: Into = live('nostr_profiles'),
): Promise<void> {
  if (pubkeys !== null && pubkeys.length === 0) return;
  await clearKeys(tx, into, 'pubkey', pubkeys);
  const records: Record<string, unknown>[] = [];
  await forEachEvent(
    tx,
    sql`e.kind = 0 AND e.deleted_at IS NULL`,
    (event) => {
      records.push({ pubkey: event.pubkey, event_id: event.id, updated_at: event.created_at, ...parseProfile(event.content) });
    },
    keyedBy('pubkey', pubkeys),
  );
  await insertRecords(
    tx,
    into.table,
    records,
    sql`pubkey text, name text, display_name text, picture text, about text, nip05 text, lud16 text, lud06 text,
        banner text, website text, bot boolean, content_valid boolean, event_id text, updated_at bigint`,
  );
}

/** communities and community_moderators: the winning kind-34550 per address when not deleted. */
export async function recomputeCommunities(
  tx: Queryable,
  addresses: Keys,
  into: { communities: Into; moderators: Into } = {
    communities: live('communities'),
    moderators: live('community_moderators'),
  },
): Promise<void> {
  if (addresses !== null && addresses.length === 0) return;
  await clearKeys(tx, into.communities, 'address', addresses);
  await clearKeys(tx, into.moderators, 'address', addresses);
  const definitions: Record<string, unknown>[] = [];
  const moderators: Record<string, unknown>[] = [];
  await forEachEvent(
    tx,
    sql`e.kind = 34550 AND e.deleted_at IS NULL`,
    (event) => {
      const c = parseCommunityDefinition(event);
      definitions.push({
        address: c.address,
        owner: event.pubkey,
        d: c.d,
        name: c.name,
        description: c.description,
        image: c.image,
        relays: c.relays,
        event_id: event.id,
        created_at: event.created_at,
      });
      for (const pubkey of new Set(c.moderators)) moderators.push({ address: c.address, pubkey });
    },
    keyedBy('address', addresses),
  );
  await insertRecords(
    tx,
    into.communities.table,
    definitions,
    sql`address text, owner text, d text, name text, description text, image text, relays jsonb, event_id text, created_at bigint`,
  );
  await insertRecords(tx, into.moderators.table, moderators, sql`address text, pubkey text`);
}

/** Column lists for the per-event derived tables, in the order of their records (rows.ts). */
export const ZAP_COLUMNS = sql`receipt_id text, receipt_pubkey text, target_event text, target_address text,
  recipient text, sender text, sender_verified boolean, amount_msat bigint, amount_from_request boolean,
  bolt11 text, request_id text, request_valid boolean, amount_matches boolean, sender_tag_matches boolean,
  validity smallint, comment text, created_at bigint`;
export const APPROVAL_COLUMNS = sql`approval_id text, community text, post_id text, post_address text,
  post_pubkey text, post_kind integer, approver text, created_at bigint`;
export const TOMBSTONE_COLUMNS = sql`deletion_id text, target_type text, target text, pubkey text, created_at bigint`;

/**
 * Inserts JSON records into `table`, naming exactly the columns in `columns`; ignores conflicts.
 * With `returning`, returns those columns of the rows actually inserted.
 */
export async function insertRecords<Row = never>(
  tx: Queryable,
  table: string,
  records: object[],
  columns: SQL,
  returning?: SQL,
): Promise<Row[]> {
  const CHUNK = 5000;
  const out: Row[] = [];
  for (let i = 0; i < records.length; i += CHUNK) {
    const chunk = records.slice(i, i + CHUNK);
    const statement = sql`
      INSERT INTO ${sql.identifier(table)} SELECT * FROM json_to_recordset(${jsonParam(chunk)}) AS x(${columns})
      ON CONFLICT DO NOTHING`;
    if (returning) out.push(...(await query<Row>(tx, sql`${statement} RETURNING ${returning}`)));
    else await tx.execute(statement);
  }
  return out;
}

/**
 * Per-event derived rows (zaps, approvals, tombstones) rebuilt from every stored event of their
 * kind, into whichever of the given tables are named. Zaps and approvals come only from live
 * (undeleted) events; deletions themselves are never deleted (NIP-09 gives a deletion of a
 * deletion no effect).
 */
export async function rebuildPerEventRows(
  tx: Queryable,
  options: NormalizeOptions,
  into: { zaps?: Into; approvals?: Into; tombstones?: Into },
): Promise<void> {
  const kinds = [...(into.tombstones ? [5] : []), ...(into.zaps ? [9735] : []), ...(into.approvals ? [4550] : [])];
  if (kinds.length === 0) return;
  const zaps: object[] = [];
  const approvals: object[] = [];
  const tombstones: object[] = [];
  await forEachEvent(tx, sql`e.kind IN (${sql.raw(kinds.join(", "))})`, (event, row) => {
    const n = normalizeEvent(event, options);
    if (event.kind === 5) tombstones.push(...tombstoneRecords(n));
    if (row.deleted_at !== null) return;
    const zap = zapRecord(n);
    if (zap) zaps.push(zap);
    approvals.push(...approvalRecords(n));
  });
  if (into.zaps) await insertRecords(tx, into.zaps.table, zaps, ZAP_COLUMNS);
  if (into.approvals) await insertRecords(tx, into.approvals.table, approvals, APPROVAL_COLUMNS);
  if (into.tombstones) await insertRecords(tx, into.tombstones.table, tombstones, TOMBSTONE_COLUMNS);
}

/**
 * NIP-09: an event is deleted by the earliest tombstone of its own author that names its id, or its
 * coordinate with a created_at at or after the event's. Deletions (kind 5) are never deleted.
 * Restricted to a write batch's scope, or all events. Returns the events whose deleted_at changed.
 *
 * In a batch, a new event can only change if some tombstone names its id or its address, so the
 * scope is found from the (small) tombstones table rather than by probing every new event.
 */
export async function applyTombstones(
  tx: Queryable,
  scope: { eventIds: string[]; addresses: string[]; deletionIds: string[] } | null,
): Promise<DeletionChange[]> {
  const touched =
    scope === null
      ? sql`(SELECT event_id FROM nostr_events)`
      : sql`(SELECT t.target AS event_id FROM tombstones t
               WHERE t.target_type = 'e' AND t.target IN ${textSet(scope.eventIds)}
             UNION SELECT e.event_id FROM tombstones t JOIN nostr_events e ON e.address = t.target
               WHERE t.target_type = 'a' AND t.target IN ${textSet(scope.addresses)}
             UNION SELECT t.target FROM tombstones t
               WHERE t.target_type = 'e' AND t.deletion_id IN ${textSet(scope.deletionIds)}
             UNION SELECT e.event_id FROM tombstones t JOIN nostr_events e ON e.address = t.target
               WHERE t.target_type = 'a' AND t.deletion_id IN ${textSet(scope.deletionIds)})`;
  return query<DeletionChange>(
    tx,
    sql`
    WITH touched AS ${touched},
    expected AS (
      -- Two separate lookups so each uses the tombstones(target) index; LEAST ignores nulls.
      SELECT e.event_id, e.deleted_at AS previous,
        LEAST(
          (SELECT min(t.created_at) FROM tombstones t
            WHERE t.target = e.event_id AND t.target_type = 'e' AND t.pubkey = e.pubkey),
          (SELECT min(t.created_at) FROM tombstones t
            WHERE e.address IS NOT NULL AND t.target = e.address AND t.target_type = 'a'
              AND t.pubkey = e.pubkey AND e.created_at <= t.created_at)) AS deleted_at
      FROM nostr_events e JOIN touched USING (event_id)
      WHERE e.kind <> 5
    )
    UPDATE nostr_events e SET deleted_at = x.deleted_at
    FROM expected x
    WHERE e.event_id = x.event_id AND e.deleted_at IS DISTINCT FROM x.deleted_at
    RETURNING e.event_id, e.kind, e.pubkey, e.parent_id, e.target, e.address,
              (x.previous IS NULL) AS was_live, (x.deleted_at IS NULL) AS now_live`,
  );
}

export interface DeletionChange {
  event_id: string;
  kind: number;
  pubkey: string;
  parent_id: string | null;
  target: string | null;
  address: string | null;
  was_live: boolean;
  now_live: boolean;
}
