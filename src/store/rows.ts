/**
 * Pure mapping from normalised events to the JSON records the store hands Postgres in one parameter
 * (`jsonb_to_recordset`), which behaves the same on PGlite and postgres.js and keeps a 500-event batch
 * at one round trip per table.
 */
import type { SqlRow } from '../db/rows.js';
import type { communityApprovals, nostrEvents, tombstones, zaps } from '../db/schema/nostr.js';
import type { NormalizedEvent, NostrEvent } from '../nostr/types.js';

/** A nostr_events row as written (deleted_at and seen_at are left to the database). */
export type EventRecord = Omit<SqlRow<typeof nostrEvents>, 'deleted_at' | 'seen_at'>;

export function eventRecord(n: NormalizedEvent, relay: string | null): EventRecord {
  const e = n.event;
  return {
    event_id: e.id,
    kind: e.kind,
    pubkey: e.pubkey,
    created_at: e.created_at,
    content: e.content,
    tags_json: e.tags,
    sig: e.sig,
    identifier: n.identifier,
    subclaw: n.subclaw,
    community: n.community,
    root_id: n.root_id,
    parent_id: n.parent_id,
    target: n.reaction?.target ?? null,
    vote: n.reaction ? n.reaction.vote : null,
    is_top_level: n.is_top_level,
    is_ai: n.is_ai,
    d_tag: n.d_tag,
    address: n.address,
    expires_at: n.expires_at,
    relay,
  };
}

/** A zaps row as written; amount_msat as its exact decimal text (a bigint has no JSON form). */
export type ZapRecord = Omit<SqlRow<typeof zaps>, 'amount_msat'> & { amount_msat: string | null };

export function zapRecord(n: NormalizedEvent): ZapRecord | null {
  const z = n.zap;
  if (!z) return null;
  return {
    receipt_id: n.event.id,
    receipt_pubkey: n.event.pubkey,
    target_event: z.target_event,
    target_address: z.target_address,
    recipient: z.recipient,
    sender: z.sender,
    sender_verified: z.sender_verified,
    // bigint travels as a JSON string; Postgres reads it back exactly.
    amount_msat: z.amount_msat === null ? null : z.amount_msat.toString(),
    amount_from_request: z.amount_from_request,
    bolt11: z.bolt11,
    request_id: z.request_id,
    request_valid: z.request_valid,
    amount_matches: z.amount_matches,
    sender_tag_matches: z.sender_tag_matches,
    validity: z.validity,
    comment: z.comment,
    created_at: n.event.created_at,
  };
}

export type ApprovalRecord = SqlRow<typeof communityApprovals>;

export function approvalRecords(n: NormalizedEvent): ApprovalRecord[] {
  const a = n.approval;
  if (!a) return [];
  return [...new Set(a.communities)].map((community) => ({
    approval_id: n.event.id,
    community,
    post_id: a.post_id,
    post_address: a.post_address,
    post_pubkey: a.post_pubkey,
    post_kind: a.post_kind,
    approver: n.event.pubkey,
    created_at: n.event.created_at,
  }));
}

export type TombstoneRecord = SqlRow<typeof tombstones>;

export function tombstoneRecords(n: NormalizedEvent): TombstoneRecord[] {
  const d = n.deletion;
  if (!d) return [];
  const base = { deletion_id: n.event.id, pubkey: n.event.pubkey, created_at: n.event.created_at };
  const seen = new Set<string>();
  const out: TombstoneRecord[] = [];
  for (const id of d.event_ids) if (!seen.has(id) && seen.add(id)) out.push({ ...base, target_type: 'e', target: id });
  for (const a of d.addresses) if (!seen.has(a) && seen.add(a)) out.push({ ...base, target_type: 'a', target: a });
  return out;
}

/**
 * Why Postgres cannot store an event byte-exactly, or null. `text` and `jsonb` refuse U+0000, and a
 * lone UTF-16 surrogate would be re-encoded as U+FFFD, silently changing the event so its id no
 * longer verifies. Such events are rejected (and counted) rather than stored altered.
 */
export function unstorableReason(e: NostrEvent): 'nul_character' | 'lone_surrogate' | null {
  // Runs for every event on the ingest thread: no intermediate arrays.
  let reason = textProblem(e.content);
  for (let i = 0; reason === null && i < e.tags.length; i++) {
    const tag = e.tags[i]!;
    for (let j = 0; reason === null && j < tag.length; j++) reason = textProblem(tag[j]!);
  }
  return reason;
}

function textProblem(t: string): 'nul_character' | 'lone_surrogate' | null {
  if (t.includes('\u0000')) return 'nul_character';
  return t.isWellFormed() ? null : 'lone_surrogate';
}
