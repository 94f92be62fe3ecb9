/**
 * One event in, every derived column out. Pure: the only outside capability, checking an embedded
 * zap request's signature, is injected through `options`.
 */
import type { NormalizeOptions, NormalizedEvent, NostrEvent } from '../types.js';
import { dTagOf, eventAddress, kindClass } from '../kinds.js';
import { parseProfile } from './nip01-profile.js';
import { parseDeletion } from './nip09-deletion.js';
import { parseComment } from './nip22-comment.js';
import { parseReaction } from './nip25-reaction.js';
import { isAiLabelled } from './nip32-label.js';
import { expirationOf } from './nip40-expiration.js';
import { parseZapReceipt } from './nip57-zap.js';
import { APPROVAL_KIND, COMMUNITY_KIND, communityOf, parseApproval, parseCommunityDefinition } from './nip72-community.js';

export function normalizeEvent(event: NostrEvent, options: NormalizeOptions): NormalizedEvent {
  const cls = kindClass(event.kind);
  const comment = event.kind === 1111 ? parseComment(event, options.subclawBases) : null;
  const community = communityOf(event);

  return {
    event,
    kind_class: cls,
    address: eventAddress(event),
    d_tag: cls === 'addressable' ? dTagOf(event) : null,
    identifier: comment?.identifier ?? null,
    subclaw: comment?.subclaw ?? null,
    community,
    root_id: comment?.root_id ?? null,
    parent_id: comment?.parent_id ?? null,
    // Kind 1 is not threaded here (NIP-10 is out of scope). A legacy NIP-72 community post (kind 1 with
    // the community `a`) without `e` tags starts a thread in its community's feed; other notes are
    // not the app's posts and never top-level.
    is_top_level: comment
      ? comment.is_top_level
      : event.kind === 1 && community !== null && !event.tags.some((t) => t[0] === 'e'),
    malformed: comment?.malformed ?? false,
    is_ai: isAiLabelled(event),
    expires_at: expirationOf(event),
    profile: event.kind === 0 ? parseProfile(event.content) : null,
    reaction: event.kind === 7 || event.kind === 17 ? parseReaction(event) : null,
    zap: event.kind === 9735 ? parseZapReceipt(event, options) : null,
    community_definition: event.kind === COMMUNITY_KIND ? parseCommunityDefinition(event) : null,
    approval: event.kind === APPROVAL_KIND ? parseApproval(event) : null,
    deletion: event.kind === 5 ? parseDeletion(event) : null,
  };
}

export { compareReplaceable, eventAddress, kindClass, replacesCurrent } from '../kinds.js';
export { canonicalIdentifier } from './nip73-identifier.js';
export { bolt11AmountMsat, parseBolt11Amount } from './bolt11.js';
export { isExpired } from './nip40-expiration.js';
