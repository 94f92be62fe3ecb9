/**
 * NIP-72 moderated communities: the definition (kind 34550), approvals (kind 4550) and which
 * community a post belongs to. Whether an approval counts (owner or moderator of the latest
 * definition, not withdrawn) depends on other events and is decided by the store.
 */
import type { ApprovalFields, CommunityFields, NostrEvent } from '../types.js';
import { dTagOf } from '../kinds.js';
import { firstValid, firstValue, isHex64, parseAddress, parseUnsignedInt, tagValues, unique } from './tags.js';

export const COMMUNITY_KIND = 34550;
export const APPROVAL_KIND = 4550;

/** A well-formed `34550:<owner hex>:<d>` coordinate. */
export function isCommunityAddress(value: string): boolean {
  return parseAddress(value)?.kind === COMMUNITY_KIND;
}

/** Kind-34550 definition. Moderators: `p` tags marked "moderator" (index 3), valid hex, deduped. */
export function parseCommunityDefinition(event: Pick<NostrEvent, 'pubkey' | 'tags'>): CommunityFields {
  const { tags } = event;
  const d = dTagOf(event);
  const moderators = unique(
    tags
      .filter((t) => t[0] === 'p' && t[3] === 'moderator' && isHex64(t[1]))
      .map((t) => t[1] as string),
  );
  return {
    address: `${COMMUNITY_KIND}:${event.pubkey}:${d}`,
    d,
    name: firstValue(tags, 'name'),
    description: firstValue(tags, 'description'),
    image: firstValue(tags, 'image'),
    moderators,
    relays: unique(tagValues(tags, 'relay').filter((r) => r !== '')),
  };
}

/**
 * Kind-4550 approval. `a` tags starting with `34550:` name communities; any other `a` is the
 * approved (addressable) post, as NIP-72 says to disambiguate them by prefix.
 */
export function parseApproval(event: Pick<NostrEvent, 'tags'>): ApprovalFields {
  const { tags } = event;
  const as = tagValues(tags, 'a').filter((a) => parseAddress(a) !== null);
  return {
    communities: unique(as.filter(isCommunityAddress)),
    post_id: firstValid(tags, 'e', isHex64),
    post_address: as.find((a) => !isCommunityAddress(a)) ?? null,
    post_pubkey: firstValid(tags, 'p', isHex64),
    post_kind: parseUnsignedInt(firstValue(tags, 'k')),
  };
}

/**
 * The community a post belongs to: a kind-1111 comment whose root is `A` = a community and `K` =
 * `34550`, or a legacy kind-1 note with a lowercase community `a` tag (the first one).
 */
export function communityOf(event: Pick<NostrEvent, 'kind' | 'tags'>): string | null {
  const { tags } = event;
  if (event.kind === 1111) {
    if (firstValue(tags, 'K') !== String(COMMUNITY_KIND)) return null;
    const root = firstValid(tags, 'A', (a) => parseAddress(a) !== null);
    return root !== null && isCommunityAddress(root) ? root : null;
  }
  if (event.kind === 1) return firstValid(tags, 'a', isCommunityAddress);
  return null;
}
