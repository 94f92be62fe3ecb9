/**
 * NIP-25 reactions. Kind 7 reacts to a Nostr event, kind 17 to external content (NIP-73 `i`/`k`).
 * The target is the LAST `e` (clients may copy the thread's `e` tags before it) and its author the
 * last `p`.
 */
import type { NostrEvent, ReactionFields } from '../types.js';
import { canonicalIdentifier, canonicalUrl } from './nip73-identifier.js';
import { isAddress, isHex64, lastValid, tagValues } from './tags.js';

/** `+` or empty is an upvote, `-` a downvote, anything else (emoji, `:shortcode:`) no vote. */
export function voteOf(content: string): -1 | 0 | 1 {
  if (content === '+' || content === '') return 1;
  if (content === '-') return -1;
  return 0;
}

function lastValue(tags: NostrEvent['tags'], name: string): string | null {
  const values = tagValues(tags, name);
  return values.length > 0 ? (values[values.length - 1] as string) : null;
}

function lastCanonical(tags: NostrEvent['tags'], name: string, canon: (v: string) => string | null): string | null {
  const values = tagValues(tags, name);
  for (let i = values.length - 1; i >= 0; i--) {
    const id = canon(values[i] as string);
    if (id !== null) return id;
  }
  return null;
}

/** Reaction fields of a kind-7 or kind-17 event. */
export function parseReaction(event: Pick<NostrEvent, 'kind' | 'tags' | 'content'>): ReactionFields {
  const { tags, content } = event;
  const common = { vote: voteOf(content), emoji: content === '' ? '+' : content };

  if (event.kind === 17) {
    // NIP-73 form: last `i` + `k`. An earlier NIP-25 draft used `["r", url]`: read it as a web id.
    const byI = lastCanonical(tags, 'i', canonicalIdentifier);
    const byR = byI === null ? lastCanonical(tags, 'r', (v) => canonicalUrl(v.trim())) : null;
    return {
      target: byI ?? byR,
      target_pubkey: null,
      target_address: null,
      target_kind: byI !== null ? lastValue(tags, 'k') : byR !== null ? 'web' : null,
      ...common,
    };
  }

  return {
    target: lastValid(tags, 'e', isHex64),
    target_pubkey: lastValid(tags, 'p', isHex64),
    target_address: lastValid(tags, 'a', isAddress),
    target_kind: lastValue(tags, 'k'),
    ...common,
  };
}
