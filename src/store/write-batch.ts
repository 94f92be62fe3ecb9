/**
 * The single write path: applies a batch of verified, normalised events in one transaction.
 *
 * Order independence: every step is either an idempotent insert of a pure function of one event, a
 * recompute of the touched keys of a derived table from its definition in derived.ts, or (for
 * event_stats) a delta that each contribution adds exactly once when it appears and removes exactly
 * once when it goes. So the final state is a function of the set of events ever written, not of
 * their order or repeats.
 *
 * Writers serialise on one transaction-scoped advisory lock: the recomputes read what other
 * transactions have committed, and two concurrent batches touching one post must not each miss the
 * other's rows. Batching keeps the lock cheap (one acquisition per few hundred events).
 */
import { sql } from 'drizzle-orm';
import { query, type AppDatabase, type Queryable } from '../db/client.js';
import type { SqlRow } from '../db/rows.js';
import type { zaps } from '../db/schema/nostr.js';
import type { NormalizedEvent, NormalizeOptions } from '../nostr/types.js';
import { compareReplaceable } from '../nostr/kinds.js';
import {
  APPROVAL_COLUMNS,
  TOMBSTONE_COLUMNS,
  ZAP_COLUMNS,
  applyTombstones,
  insertRecords,
  jsonParam,
  recomputeCommunities,
  recomputeProfiles,
  recomputeReactions,
  applyStatDeltas,
  textSet,
  type ReactionPair,
} from './derived.js';
import { announceChange } from './changes.js';
import { WRITER_LOCK_KEY } from './locks.js';
import { approvalRecords, eventRecord, tombstoneRecords, unstorableReason, zapRecord } from './rows.js';
import { syncRanking } from './ranking.js';
import { StatDeltas } from './stat-deltas.js';

/** The zap columns event_stats depends on, as read back from Postgres (amount_msat as exact text). */
type ZapRow = Pick<SqlRow<typeof zaps>, 'target_event' | 'validity'> & { amount_msat: string | null };

const amountOf = (z: ZapRow): bigint | null => (z.amount_msat === null ? null : BigInt(z.amount_msat));


export interface WriteOptions {
  /** Relay the whole batch came from (first relay and seen-on); null or absent for file imports. */
  relay?: string | null;
  /**
   * The relays each event was seen on, first seen first, when a batch mixes relays: the batch's
   * events and copies of events stored before (repeats dropped upstream included), so seen-on stays
   * complete. An event's first relay is the first of its list.
   */
  seenOn?: ReadonlyMap<string, readonly string[]>;
  normalizeOptions: NormalizeOptions;
  /** Runs inside the same transaction after the events are written (e.g. a coverage cursor). */
  inTransaction?: (tx: Queryable) => Promise<void>;
}

export interface WriteResult {
  /** Newly stored events. */
  inserted: number;
  /** Already stored (same id), in this batch or before. */
  duplicates: number;
  /** Replaceable/addressable versions that lost to a newer (or equal, lower-id) stored version. */
  superseded: number;
  /** Stored versions that a newer version in this batch replaced. */
  replaced: number;
  /** Events whose deletion took effect in this batch (new tombstones, or targets arriving late). */
  deleted: number;
  /** Events Postgres cannot store byte-exactly, by reason; not written. */
  unstorable: Record<string, number>;
  insertedIds: string[];
}

const EVENT_COLUMNS = sql`event_id text, kind integer, pubkey text, created_at bigint, content text,
  tags_json jsonb, sig text, identifier text, subclaw text, community text, root_id text, parent_id text,
  target text, vote smallint, is_top_level boolean, is_ai boolean, d_tag text, address text,
  expires_at bigint, relay text`;

export async function writeBatch(db: AppDatabase, batch: NormalizedEvent[], options: WriteOptions): Promise<WriteResult> {
  const relay = options.relay ?? null;
  const seenOn = options.seenOn ?? new Map<string, readonly string[]>();
  const result: WriteResult = {
    inserted: 0,
    duplicates: 0,
    superseded: 0,
    replaced: 0,
    deleted: 0,
    unstorable: {},
    insertedIds: [],
  };

  // 1. In memory: drop ephemeral and unstorable events, repeats within the batch, and replaceable
  //    versions that lose to another version in the same batch.
  const byId = new Map<string, NormalizedEvent>();
  for (const n of batch) {
    if (n.kind_class === 'ephemeral') continue;
    const reason = unstorableReason(n.event);
    if (reason) {
      result.unstorable[reason] = (result.unstorable[reason] ?? 0) + 1;
      continue;
    }
    if (byId.has(n.event.id)) result.duplicates++;
    else byId.set(n.event.id, n);
  }
  const winners = new Map<string, NormalizedEvent>();
  const candidates: NormalizedEvent[] = [];
  for (const n of byId.values()) {
    if (n.address === null) {
      candidates.push(n);
      continue;
    }
    const current = winners.get(n.address);
    if (!current) winners.set(n.address, n);
    else {
      result.superseded++;
      if (compareReplaceable(n.event, current.event) < 0) winners.set(n.address, n);
    }
  }
  candidates.push(...winners.values());
  if (candidates.length === 0 && seenOn.size === 0 && !options.inTransaction) return result;

  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${WRITER_LOCK_KEY})`);

    // 2. Replaceable/addressable: remove stored versions that a candidate beats.
    const addressed = [...winners.values()].map((n) => ({
      address: n.address,
      created_at: n.event.created_at,
      event_id: n.event.id,
    }));
    const replacedRows =
      addressed.length === 0
        ? []
        : await query<{ event_id: string; kind: number; pubkey: string; address: string }>(
            tx,
            sql`DELETE FROM nostr_events e
                USING json_to_recordset(${jsonParam(addressed)}) AS c(address text, created_at bigint, event_id text)
                WHERE e.address = c.address
                  AND (e.created_at < c.created_at OR (e.created_at = c.created_at AND e.event_id > c.event_id))
                RETURNING e.event_id, e.kind, e.pubkey, e.address`,
          );
    result.replaced = replacedRows.length;
    if (replacedRows.length > 0) {
      await tx.execute(sql`DELETE FROM event_relays WHERE event_id IN ${textSet(replacedRows.map((r) => r.event_id))}`);
    }

    // 3. Insert. A replaceable candidate still facing a stored version for its address lost to it.
    const records = candidates.map((n) => eventRecord(n, relay ?? seenOn.get(n.event.id)?.[0] ?? null));
    const insertedRows = await query<{ event_id: string }>(
      tx,
      sql`INSERT INTO nostr_events (event_id, kind, pubkey, created_at, content, tags_json, sig, identifier, subclaw,
            community, root_id, parent_id, target, vote, is_top_level, is_ai, d_tag, address, expires_at, relay)
          SELECT x.* FROM json_to_recordset(${jsonParam(records)}) AS x(${EVENT_COLUMNS})
          WHERE x.address IS NULL OR NOT EXISTS (SELECT 1 FROM nostr_events s WHERE s.address = x.address)
          ON CONFLICT DO NOTHING
          RETURNING event_id`,
    );
    const inserted = new Set(insertedRows.map((r) => r.event_id));
    result.inserted = inserted.size;
    result.insertedIds = [...inserted];
    const existing = candidates.filter((n) => !inserted.has(n.event.id));
    if (existing.length > 0) {
      // Tell "same id already stored" apart from "an older version of a stored address".
      const present = await query<{ event_id: string }>(
        tx,
        sql`SELECT event_id FROM nostr_events WHERE event_id IN ${textSet(existing.map((n) => n.event.id))}`,
      );
      result.duplicates += present.length;
      result.superseded += existing.length - present.length;
    }
    const insertedEvents = candidates.filter((n) => inserted.has(n.event.id));

    // 4. NIP-09: keep every new deletion as tombstones, then apply tombstones to new targets and
    //    new tombstones to stored targets.
    const newDeletions = insertedEvents.filter((n) => n.deletion !== null);
    await insertRecords(tx, 'tombstones', newDeletions.flatMap(tombstoneRecords), TOMBSTONE_COLUMNS);
    const changes =
      insertedEvents.length === 0
        ? []
        : await applyTombstones(tx, {
            eventIds: [...inserted],
            addresses: insertedEvents.flatMap((n) => (n.address === null ? [] : [n.address])),
            deletionIds: newDeletions.map((n) => n.event.id),
          });
    const newlyDeleted = changes.filter((c) => c.was_live && !c.now_live);
    result.deleted = newlyDeleted.length;
    const deletedIds = new Set(newlyDeleted.map((c) => c.event_id));

    // 5. Per-event rows for live new events; remove those of events deleted now.
    const liveNew = insertedEvents.filter((n) => !deletedIds.has(n.event.id));
    const zapRows = sql`target_event, validity, amount_msat::text AS amount_msat`;
    const addedZaps = await insertRecords<ZapRow>(tx, 'zaps', liveNew.map(zapRecord).filter((z) => z !== null), ZAP_COLUMNS, zapRows);
    await insertRecords(tx, 'community_approvals', liveNew.flatMap(approvalRecords), APPROVAL_COLUMNS);
    const removedZaps =
      deletedIds.size === 0
        ? []
        : await query<ZapRow>(tx, sql`DELETE FROM zaps WHERE receipt_id IN ${textSet(deletedIds)} RETURNING ${zapRows}`);
    if (deletedIds.size > 0) {
      await tx.execute(sql`DELETE FROM community_approvals WHERE approval_id IN ${textSet(deletedIds)}`);
    }

    // 6. Seen-on relays of every event that is stored now: one row per event, relays appended in
    //    first-seen order (a row changes only when a relay is new to it). Sent grouped by relay
    //    list, of which a batch has few.
    const seen = relay === null ? seenOn : new Map([...byId.keys()].map((id) => [id, [relay]]));
    if (seen.size > 0) {
      await tx.execute(sql`
        INSERT INTO event_relays AS t (event_id, relays)
        SELECT s.id, g.relays FROM json_to_recordset(${jsonParam(groupByRelays(seen))}) AS g(relays text[], ids json)
          CROSS JOIN LATERAL json_array_elements_text(g.ids) AS s(id)
          JOIN nostr_events e ON e.event_id = s.id
        ON CONFLICT (event_id) DO UPDATE
          SET relays = t.relays || ARRAY(SELECT r FROM unnest(excluded.relays) WITH ORDINALITY AS x(r, n) WHERE r <> ALL (t.relays) ORDER BY n)
          WHERE NOT t.relays @> excluded.relays`);
    }

    // 7. Derived rows: recompute the touched reaction pairs, profiles and communities; add the
    //    batch's contributions to event_stats (stat-deltas.ts), then re-rank the touched posts.
    const deltas = new StatDeltas();
    const reactionPairs = new Map<string, ReactionPair>();
    const profilePubkeys = new Set<string>();
    const communityAddresses = new Set<string>();
    const touch = (kind: number, pubkey: string, address: string | null, target: string | null) => {
      if (target) reactionPairs.set(`${target}:${pubkey}`, { target, reactor: pubkey });
      if (kind === 0) profilePubkeys.add(pubkey);
      if (kind === 34550 && address) communityAddresses.add(address);
    };
    // Inserted events are live when inserted; one deleted in this same batch is also in
    // newlyDeleted, so its reply counts +1 then -1.
    for (const n of insertedEvents) {
      touch(n.event.kind, n.event.pubkey, n.address, n.reaction?.target ?? null);
      if (n.event.kind === 1111 && n.parent_id) deltas.reply(n.parent_id, 1);
    }
    for (const c of newlyDeleted) {
      touch(c.kind, c.pubkey, c.address, c.target);
      if (c.kind === 1111 && c.parent_id) deltas.reply(c.parent_id, -1);
    }
    for (const r of replacedRows) touch(r.kind, r.pubkey, r.address, null);
    for (const z of addedZaps) if (z.target_event) deltas.zap(z.target_event, z.validity, amountOf(z), 1);
    for (const z of removedZaps) if (z.target_event) deltas.zap(z.target_event, z.validity, amountOf(z), -1);
    for (const v of await recomputeReactions(tx, [...reactionPairs.values()])) deltas.vote(v.target, v.vote, v.sign);

    const statChanges = deltas.records();
    await applyStatDeltas(tx, statChanges);
    // The feed ranking of every post whose membership or stats this batch changed (ranking.ts).
    await syncRanking(tx, [
      ...insertedEvents.filter((n) => n.is_top_level).map((n) => n.event.id),
      ...deletedIds,
      ...statChanges.map((d) => d.event_id),
    ]);
    await recomputeProfiles(tx, [...profilePubkeys]);
    await recomputeCommunities(tx, [...communityAddresses]);

    if (result.inserted + result.replaced > 0) await announceChange(tx);
    if (options.inTransaction) await options.inTransaction(tx);
  });
  return result;
}

/** Events grouped by their relay list (in order): the seen-on rows as few JSON values. */
function groupByRelays(seenOn: ReadonlyMap<string, readonly string[]>): Array<{ relays: readonly string[]; ids: string[] }> {
  const groups = new Map<string, { relays: readonly string[]; ids: string[] }>();
  for (const [id, relays] of seenOn) {
    const key = relays.join('\n'); // a URL holds no newline
    const group = groups.get(key);
    if (group) group.ids.push(id);
    else groups.set(key, { relays, ids: [id] });
  }
  return [...groups.values()];
}
