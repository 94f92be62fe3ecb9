/**
 * Pure mapping from normalised events to the JSON records the store hands Postgres in one parameter
 * (`jsonb_to_recordset`), which behaves the same on PGlite and postgres.js and keeps a 500-event batch
 * at one round trip per table.
 */
import type { NormalizedEvent, NostrEvent } from '../nostr/types.js';

export interface EventRecord {
  event_id: string;
  kind: number;
  pubkey: string;
  created_at: number;
  content: string;
  tags_json: string[][];
  sig: string;
  identifier: string | null;
  subclaw: string | null;
  community: string | null;
  root_id: string | null;
  parent_id: string | null;
  target: string | null;
  vote: number | null;
  is_top_level: boolean;
  is_ai: boolean;
  d_tag: string | null;
  address: string | null;
  expires_at: number | null;
  relay: string | null;
}

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

export interface ZapRecord {
  receipt_id: string;
  receipt_pubkey: string;
  target_event: string | null;
  target_address: string | null;
  recipient: string | null;
  sender: string | null;
  sender_verified: boolean;
  amount_msat: string | null;
  amount_from_request: boolean;
  bolt11: string | null;
  request_id: string | null;
  request_valid: boolean;
  amount_matches: boolean | null;
  sender_tag_matches: boolean | null;
  validity: number;
  comment: string | null;
  created_at: number;
}

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

export interface ApprovalRecord {
  approval_id: string;
  community: string;
  post_id: string | null;
  post_address: string | null;
  post_pubkey: string | null;
  post_kind: number | null;
  approver: string;
  created_at: number;
}

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

export interface TombstoneRecord {
  deletion_id: string;
  target_type: 'e' | 'a';
  target: string;
  pubkey: string;
  created_at: number;
}

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
