/** Pure shaping of store rows into API objects (no I/O). */
import { npubEncode } from 'nostr-tools/nip19';
import type { PostRow } from '../store/queries/posts.js';
import type { ProfileRow } from '../store/queries/profiles.js';
import type { CommunityRow } from '../store/queries/communities.js';
import type { ZapRow } from '../store/queries/events.js';

const num = (v: number | string | null | undefined): number => Number(v ?? 0);
const numOrNull = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

function json<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

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

export interface Post {
  id: string;
  kind: number;
  pubkey: string;
  created_at: number;
  content: string;
  tags: string[][];
  sig: string;
  subclaw: string | null;
  community: string | null;
  identifier: string | null;
  root_id: string | null;
  parent_id: string | null;
  is_ai: boolean;
  expires_at: number | null;
  author: { pubkey: string; npub: string; name: string | null; display_name: string | null; picture: string | null; nip05: string | null };
  stats: { replies: number; up: number; down: number; score: number; zap_count: number; zap_sats: number; zap_msat: string };
  approved?: boolean;
  depth?: number;
  hot?: number;
}

export function toPost(row: PostRow, extra: { hot?: boolean } = {}): Post {
  const up = num(row.up);
  const down = num(row.down);
  const replies = num(row.replies);
  const zapMsat = String(row.zap_msat ?? '0');
  const post: Post = {
    id: row.event_id,
    kind: num(row.kind),
    pubkey: row.pubkey,
    created_at: num(row.created_at),
    content: row.content,
    tags: json<string[][]>(row.tags_json),
    sig: row.sig,
    subclaw: row.subclaw,
    community: row.community,
    identifier: row.identifier,
    root_id: row.root_id,
    parent_id: row.parent_id,
    is_ai: row.is_ai,
    expires_at: numOrNull(row.expires_at),
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
      zap_count: num(row.zap_count),
      zap_sats: msatToSats(zapMsat),
      zap_msat: zapMsat,
    },
  };
  if (row.approved !== undefined && row.approved !== null) post.approved = row.approved;
  if (row.depth !== undefined) post.depth = num(row.depth);
  if (extra.hot && row.sort_score !== undefined && row.sort_score !== null) post.hot = Number(row.sort_score);
  return post;
}

/** A profile as served: the stored row, with its npub and a numeric updated_at. */
export type Profile = Omit<ProfileRow, 'updated_at'> & { npub: string; updated_at: number };

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
    updated_at: num(row.updated_at),
  };
}

export interface Community {
  address: string;
  owner: string;
  d: string;
  name: string | null;
  description: string | null;
  image: string | null;
  relays: string[];
  moderators: string[];
  event_id: string;
  created_at: number;
  post_count: number;
  last_post_at: number | null;
}

export function toCommunity(row: CommunityRow): Community {
  return {
    address: row.address,
    owner: row.owner,
    d: row.d,
    name: row.name,
    description: row.description,
    image: row.image,
    relays: json<string[]>(row.relays),
    moderators: json<string[]>(row.moderators),
    event_id: row.event_id,
    created_at: num(row.created_at),
    post_count: num(row.post_count),
    last_post_at: numOrNull(row.last_post_at),
  };
}

export interface Zap {
  receipt_id: string;
  receipt_pubkey: string;
  sender: string | null;
  sender_verified: boolean;
  recipient: string | null;
  amount_msat: string | null;
  amount_sats: number | null;
  amount_from_request: boolean;
  validity: number;
  comment: string | null;
  created_at: number;
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
    validity: num(row.validity),
    comment: row.comment,
    created_at: num(row.created_at),
  };
}
