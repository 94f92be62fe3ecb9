/**
 * The shapes that flow through the pipeline: a raw NIP-01 event as a relay or a file gives it, and
 * the normalised record the store writes. Normalisers are pure functions from the first to the second.
 */

/** A NIP-01 event whose shape has been checked (hex fields, integer kind/created_at, string tags). */
export interface NostrEvent {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
  sig: string;
}

export type KindClass = 'regular' | 'replaceable' | 'addressable' | 'ephemeral';

/** Parsed kind-0 metadata (NIP-01, NIP-24, NIP-05). All null when the content is not a JSON object. */
export interface ProfileFields {
  name: string | null;
  display_name: string | null;
  about: string | null;
  picture: string | null;
  banner: string | null;
  website: string | null;
  nip05: string | null;
  lud16: string | null;
  lud06: string | null;
  bot: boolean | null;
  /** false when the content did not parse as a JSON object (the raw event is still kept). */
  content_valid: boolean;
}

/** NIP-25 reaction (kind 7 on an event, kind 17 on external content). */
export interface ReactionFields {
  /** Event id (kind 7: last `e`) or canonical NIP-73 id (kind 17: last `i`). Null when absent. */
  target: string | null;
  /** Author of the target: last `p` (kind 7). */
  target_pubkey: string | null;
  /** `a` coordinate kept alongside (kind 7 on an addressable event). */
  target_address: string | null;
  /** kind 17: the `k` value (NIP-73 type); kind 7: the `k` value if any. */
  target_kind: string | null;
  /** +1 for `+` or empty, -1 for `-`, 0 for any other content (emoji, :shortcode:). */
  vote: -1 | 0 | 1;
  /** The content as given (`+`, `-`, an emoji, `:shortcode:`), '+' for empty content. */
  emoji: string;
}

/**
 * NIP-57 zap receipt. Every receipt is kept; `validity` grades it:
 * 0 = description is not a valid signed kind-9734 for this receipt's `p` (sender unverified),
 * 1 = signed request, but its `amount` tag disagrees with the invoice amount,
 * 2 = signed request and the amounts agree (or the request names none),
 * 3 = as 2, and the receipt's `P` tag (if any) equals the request's pubkey.
 * Totals count validity >= 2.
 */
export interface ZapFields {
  bolt11: string | null;
  /** From the bolt11 human-readable part; else the request's `amount` tag (amount_from_request). */
  amount_msat: bigint | null;
  amount_from_request: boolean;
  /** Request pubkey when the request is valid, else the `P` tag as a hint, else null. */
  sender: string | null;
  sender_verified: boolean;
  recipient: string | null;
  target_event: string | null;
  target_address: string | null;
  request_id: string | null;
  request_valid: boolean;
  amount_matches: boolean | null;
  sender_tag_matches: boolean | null;
  validity: 0 | 1 | 2 | 3;
  comment: string | null;
}

/** NIP-72 community definition (kind 34550). */
export interface CommunityFields {
  address: string;
  d: string;
  name: string | null;
  description: string | null;
  image: string | null;
  moderators: string[];
  relays: string[];
}

/** NIP-72 approval (kind 4550). One event may approve for several communities. */
export interface ApprovalFields {
  communities: string[];
  post_id: string | null;
  post_address: string | null;
  post_pubkey: string | null;
  post_kind: number | null;
}

/** NIP-09 deletion request (kind 5). Only targets authored by the deleter are ever applied. */
export interface DeletionFields {
  event_ids: string[];
  addresses: string[];
}

/** What the store writes for one event: the raw event plus every column derived from it. */
export interface NormalizedEvent {
  event: NostrEvent;
  kind_class: KindClass;
  /** `kind:pubkey:d` for addressable, `kind:pubkey:` for replaceable, else null. */
  address: string | null;
  d_tag: string | null;
  /** NIP-22/73 canonical external id (root `I`, else parent `i`). */
  identifier: string | null;
  subclaw: string | null;
  /** NIP-72 community address the post belongs to. */
  community: string | null;
  root_id: string | null;
  parent_id: string | null;
  is_top_level: boolean;
  /** NIP-22 comment that names a root but no parent tag at all. */
  malformed: boolean;
  is_ai: boolean;
  /** NIP-40 expiration (unix seconds), null when absent or not an integer. */
  expires_at: number | null;
  profile: ProfileFields | null;
  reaction: ReactionFields | null;
  zap: ZapFields | null;
  community_definition: CommunityFields | null;
  approval: ApprovalFields | null;
  deletion: DeletionFields | null;
}

export interface NormalizeOptions {
  /** Hosts whose `/c/<name>` URLs are subclaws, lowercase (default ['clawstr.com']). */
  subclawBases: string[];
  /**
   * Checks id and signature of an event embedded in another (the kind-9734 zap request inside a
   * receipt's `description`). Injected so normalisers stay pure and the fast WASM verifier is used.
   */
  verifyEmbedded: (event: NostrEvent) => boolean;
}
