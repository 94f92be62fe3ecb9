/**
 * The derived tables, each defined once as a function of `nostr_events` (and of the tombstones kept
 * beside it). `writeBatch` recomputes only the keys a batch touched; `stats rebuild` recomputes every
 * key into scratch tables and compares. Because both use the same definitions, and every definition
 * is a pure function of the stored event set, the final state cannot depend on arrival order.
 */
import { sql, type SQL } from 'drizzle-orm';
import { query, type Queryable } from '../db/client.js';
import { normalizeEvent } from '../nostr/normalize/index.js';
import { parseProfile } from '../nostr/normalize/nip01-profile.js';
import { parseCommunityDefinition } from '../nostr/normalize/nip72-community.js';
import type { NormalizeOptions, NostrEvent } from '../nostr/types.js';
import { approvalRecords, tombstoneRecords, zapRecord } from './rows.js';

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

function keyFilter(column: SQL, keys: Keys): SQL {
  return keys === null ? sql`TRUE` : sql`${column} IN ${textSet(keys)}`;
}

async function clearKeys(tx: Queryable, into: Into, keyColumn: string, keys: Keys): Promise<void> {
  if (keys === null) return; // rebuild targets start empty
  await tx.execute(sql`DELETE FROM ${sql.identifier(into.table)} WHERE ${sql.identifier(keyColumn)} IN ${textSet(keys)}`);
}

/**
 * NIP-25 totals count one vote per (reactor, target): the reactor's latest live reaction, ties to
 * the lowest id. `emoji` keeps the content, with empty content meaning '+'.
 */
export async function recomputeReactions(tx: Queryable, targets: Keys, into: Into = live('reactions')): Promise<void> {
  if (targets !== null && targets.length === 0) return;
  await clearKeys(tx, into, 'target', targets);
  await tx.execute(sql`
    INSERT INTO ${sql.identifier(into.table)} (target, reactor, event_id, vote, emoji, created_at)
    SELECT DISTINCT ON (e.target, e.pubkey)
           e.target, e.pubkey, e.event_id, e.vote, COALESCE(NULLIF(e.content, ''), '+'), e.created_at
    FROM nostr_events e
    WHERE e.target IS NOT NULL AND e.vote IS NOT NULL AND e.deleted_at IS NULL
      AND ${keyFilter(sql`e.target`, targets)}
    ORDER BY e.target, e.pubkey, e.created_at DESC, e.event_id ASC`);
}

/** Which aggregates of event_stats to recompute for which ids. */
export interface StatKeys {
  /** Events that gained or lost a direct reply. */
  replies: string[];
  /** Targets whose reactions changed. */
  votes: string[];
  /** Targets whose zaps changed. */
  zaps: string[];
}

/**
 * Per-event aggregates: direct NIP-22 replies, up/down votes from `reactions`, and zaps whose
 * validity is at least 2 (signed request, consistent amount). Rows exist only while non-zero.
 * Each aggregate is recomputed only for the ids whose inputs changed; `null` recomputes all.
 */
export async function recomputeStats(tx: Queryable, keys: StatKeys | null, into: Into = live('event_stats')): Promise<void> {
  const table = sql.identifier(into.table);
  const idsFor = (list: string[] | undefined, all: SQL): SQL =>
    list === undefined ? all : sql`(SELECT DISTINCT json_array_elements_text(${JSON.stringify(list)}::json) AS id)`;
  // Correlated lookups per id, deliberately: each is an index probe whatever the planner's row
  // estimates (a grouped join over freshly loaded, unanalysed tables was planned as a nested loop).
  const components: Array<{ list: string[] | undefined; all: SQL; insert: (ids: SQL) => SQL }> = [
    {
      list: keys?.replies,
      all: sql`(SELECT DISTINCT parent_id AS id FROM nostr_events WHERE kind = 1111 AND parent_id IS NOT NULL AND deleted_at IS NULL)`,
      insert: (ids) => sql`
        INSERT INTO ${table} (event_id, replies)
        SELECT t.id, (SELECT count(*) FROM nostr_events c
                      WHERE c.parent_id = t.id AND c.kind = 1111 AND c.deleted_at IS NULL) FROM ${ids} t
        ON CONFLICT (event_id) DO UPDATE SET replies = excluded.replies`,
    },
    {
      list: keys?.votes,
      all: sql`(SELECT DISTINCT target AS id FROM reactions)`,
      insert: (ids) => sql`
        INSERT INTO ${table} (event_id, up, down)
        SELECT t.id, v.up, v.down FROM ${ids} t CROSS JOIN LATERAL (
          SELECT count(*) FILTER (WHERE r.vote = 1) AS up, count(*) FILTER (WHERE r.vote = -1) AS down
          FROM reactions r WHERE r.target = t.id) v
        ON CONFLICT (event_id) DO UPDATE SET up = excluded.up, down = excluded.down`,
    },
    {
      list: keys?.zaps,
      all: sql`(SELECT DISTINCT target_event AS id FROM zaps WHERE target_event IS NOT NULL)`,
      insert: (ids) => sql`
        INSERT INTO ${table} (event_id, zap_count, zap_msat)
        SELECT t.id, z.n, z.msat FROM ${ids} t CROSS JOIN LATERAL (
          SELECT count(*) AS n, COALESCE(sum(z.amount_msat), 0) AS msat
          FROM zaps z WHERE z.target_event = t.id AND z.validity >= 2) z
        ON CONFLICT (event_id) DO UPDATE SET zap_count = excluded.zap_count, zap_msat = excluded.zap_msat`,
    },
  ];
  for (const c of components) {
    if (c.list !== undefined && c.list.length === 0) continue;
    await tx.execute(c.insert(idsFor(c.list, c.all)));
  }
  const touched = keys === null ? null : [...keys.replies, ...keys.votes, ...keys.zaps];
  if (touched !== null && touched.length === 0) return;
  await tx.execute(sql`
    DELETE FROM ${table} WHERE replies = 0 AND up = 0 AND down = 0 AND zap_count = 0
      AND ${touched === null ? sql`TRUE` : sql`event_id IN ${textSet(touched)}`}`);
}

interface EventRow {
  event_id: string;
  kind: number;
  pubkey: string;
  created_at: number | string;
  content: string;
  tags_json: string[][] | string;
  sig: string;
  deleted_at: number | string | null;
}

function rowToEvent(row: EventRow): NostrEvent {
  return {
    id: row.event_id,
    kind: Number(row.kind),
    pubkey: row.pubkey,
    created_at: Number(row.created_at),
    content: row.content,
    tags: typeof row.tags_json === 'string' ? (JSON.parse(row.tags_json) as string[][]) : row.tags_json,
    sig: row.sig,
  };
}

/**
 * Visits stored events matching `where`, a page at a time in event_id order, so a rebuild over
 * millions of rows never holds them all.
 */
async function forEachEvent(
  tx: Queryable,
  where: SQL,
  visit: (event: NostrEvent, row: EventRow) => void,
  pageSize = 2000,
): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await query<EventRow>(
      tx,
      sql`SELECT event_id, kind, pubkey, created_at, content, tags_json, sig, deleted_at
          FROM nostr_events WHERE ${where} AND event_id > ${after}
          ORDER BY event_id LIMIT ${pageSize}`,
    );
    for (const row of rows) visit(rowToEvent(row), row);
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.event_id;
  }
}

/** nostr_profiles: the winning kind-0 per pubkey when it is not deleted. */
export async function recomputeProfiles(
  tx: Queryable,
  pubkeys: Keys,
  into: Into = live('nostr_profiles'),
): Promise<void> {
  if (pubkeys !== null && pubkeys.length === 0) return;
  await clearKeys(tx, into, 'pubkey', pubkeys);
  const records: Record<string, unknown>[] = [];
  await forEachEvent(tx, sql`kind = 0 AND deleted_at IS NULL AND ${keyFilter(sql`pubkey`, pubkeys)}`, (event) => {
    records.push({ pubkey: event.pubkey, event_id: event.id, updated_at: event.created_at, ...parseProfile(event.content) });
  });
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
    sql`kind = 34550 AND deleted_at IS NULL AND ${keyFilter(sql`address`, addresses)}`,
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

/** Inserts JSON records into `table`, naming exactly the columns in `columns`; ignores conflicts. */
export async function insertRecords(tx: Queryable, table: string, records: object[], columns: SQL): Promise<void> {
  const CHUNK = 5000;
  for (let i = 0; i < records.length; i += CHUNK) {
    const chunk = records.slice(i, i + CHUNK);
    await tx.execute(sql`
      INSERT INTO ${sql.identifier(table)} SELECT * FROM json_to_recordset(${jsonParam(chunk)}) AS x(${columns})
      ON CONFLICT DO NOTHING`);
  }
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
  await forEachEvent(tx, sql`kind IN (${sql.raw(kinds.join(", "))})`, (event, row) => {
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
 * Restricted to `eventIds`, or all events. Returns the events whose deleted_at changed.
 */
export async function applyTombstones(
  tx: Queryable,
  scope: { eventIds: string[]; deletionIds: string[] } | null,
): Promise<DeletionChange[]> {
  const touched =
    scope === null
      ? sql`(SELECT event_id FROM nostr_events)`
      : sql`(SELECT event_id FROM nostr_events WHERE event_id IN ${textSet(scope.eventIds)}
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
