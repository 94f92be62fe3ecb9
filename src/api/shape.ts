/**
 * Pure shaping of store rows into API objects (no I/O). The objects' types are the response
 * schemas' (schemas.ts); store rows arrive with int8 as numbers and jsonb parsed (db/client.ts).
 */
import type { z } from '@hono/zod-openapi';
import { npubEncode } from 'nostr-tools/nip19';
import type { PostRow } from '../store/queries/posts.js';
import type { ProfileRow } from '../store/queries/profiles.js';
import type { CommunityRow } from '../store/queries/communities.js';
import type { ZapRow } from '../store/queries/events.js';
import type { CommunitySchema, PostSchema, ProfileSchema, ZapSchema } from './schemas.js';

export type Post = z.infer<typeof PostSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type Community = z.infer<typeof CommunitySchema>;
export type Zap = z.infer<typeof ZapSchema>;

/** bech32 encoding costs ~10 µs; authors repeat across pages, so encodings are remembered. */
const npubs = new Map<string, string>();
const NPUB_CACHE = 50_000;

function npub(pubkey: string): string {
  let value = npubs.get(pubkey);
  if (value !== undefined) return value;
  try {
    value = npubEncode(pubkey);
  } catch {
    value = '';
  }
  if (npubs.size >= NPUB_CACHE) npubs.clear();
  npubs.set(pubkey, value);
  return value;
}

/** sats from a millisat decimal string, rounded down (exact for any realistic total). */
export function msatToSats(msat: string): number {
  return Number(BigInt(msat) / 1000n);
}

export function score(up: number, down: number, replies: number, zapMsat: string): number {
  return up - down + 2 * replies + Number(zapMsat) / 10_000;
}

export function toPost(row: PostRow, extra: { hot?: boolean } = {}): Post {
  const { up, down, replies } = row;
  const zapMsat = row.zap_msat;
  const post: Post = {
    id: row.event_id,
    kind: row.kind,
    pubkey: row.pubkey,
    created_at: row.created_at,
    content: row.content,
    tags: row.tags_json,
    sig: row.sig,
    subclaw: row.subclaw,
    community: row.community,
    identifier: row.identifier,
    root_id: row.root_id,
    parent_id: row.parent_id,
    is_ai: row.is_ai,
    expires_at: row.expires_at,
    author: {
      pubkey: row.pubkey,
      npub: npub(row.pubkey),
      name: row.author_name,
      display_name: row.author_display_name,
      picture: row.author_picture,
      nip05: row.author_nip05,
    },
    stats: {
      replies,
      up,
      down,
      score: score(up, down, replies, zapMsat),
      zap_count: row.zap_count,
      zap_sats: msatToSats(zapMsat),
      zap_msat: zapMsat,
    },
  };
  if (row.approved !== undefined && row.approved !== null) post.approved = row.approved;
  if (row.depth !== undefined) post.depth = row.depth;
  if (extra.hot && row.sort_score !== undefined && row.sort_score !== null) post.hot = Number(row.sort_score);
  return post;
}

export function toProfile(row: ProfileRow): Profile {
  return {
    pubkey: row.pubkey,
    npub: npub(row.pubkey),
    name: row.name,
    display_name: row.display_name,
    picture: row.picture,
    about: row.about,
    nip05: row.nip05,
    lud16: row.lud16,
    lud06: row.lud06,
    banner: row.banner,
    website: row.website,
    bot: row.bot,
    content_valid: row.content_valid,
    event_id: row.event_id,
    updated_at: row.updated_at,
  };
}

export function toCommunity(row: CommunityRow): Community {
  return {
    address: row.address,
    owner: row.owner,
    d: row.d,
    name: row.name,
    description: row.description,
    image: row.image,
    relays: row.relays,
    moderators: row.moderators,
    event_id: row.event_id,
    created_at: row.created_at,
    post_count: row.post_count,
    last_post_at: row.last_post_at,
  };
}

export function toZap(row: ZapRow): Zap {
  return {
    receipt_id: row.receipt_id,
    receipt_pubkey: row.receipt_pubkey,
    sender: row.sender,
    sender_verified: row.sender_verified,
    recipient: row.recipient,
    amount_msat: row.amount_msat,
    amount_sats: row.amount_msat === null ? null : msatToSats(row.amount_msat),
    amount_from_request: row.amount_from_request,
    validity: row.validity,
    comment: row.comment,
    created_at: row.created_at,
  };
}
