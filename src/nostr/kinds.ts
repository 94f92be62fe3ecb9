/**
 * NIP-01 kind classes and the storage key of replaceable and addressable events.
 */
import {
  isAddressableKind,
  isEphemeralKind,
  isReplaceableKind,
} from 'nostr-tools/kinds';
import type { KindClass, NostrEvent } from './types.js';

/** The class of a kind. Kinds nostr-tools calls none of the three (>= 40000) are regular (NIP-01). */
export function kindClass(kind: number): KindClass {
  if (isReplaceableKind(kind)) return 'replaceable';
  if (isAddressableKind(kind)) return 'addressable';
  if (isEphemeralKind(kind)) return 'ephemeral';
  return 'regular';
}

/** The first `d` tag value, "" when the event has none (NIP-01 addressable key). */
export function dTagOf(event: Pick<NostrEvent, 'tags'>): string {
  for (const tag of event.tags) {
    if (tag[0] === 'd') return tag[1] ?? '';
  }
  return '';
}

/**
 * The storage key: `kind:pubkey:d` for addressable, `kind:pubkey:` for replaceable, null otherwise.
 * Replaceable keys end in ':' so both shapes share one column and one parser.
 */
export function eventAddress(event: Pick<NostrEvent, 'kind' | 'pubkey' | 'tags'>): string | null {
  switch (kindClass(event.kind)) {
    case 'addressable':
      return `${event.kind}:${event.pubkey}:${dTagOf(event)}`;
    case 'replaceable':
      return `${event.kind}:${event.pubkey}:`;
    default:
      return null;
  }
}

/**
 * Orders two versions of one replaceable/addressable event: negative when `a` wins.
 * Newest `created_at` wins; on a tie the lowest id wins (NIP-01), so every node picks the same one
 * whatever the arrival order.
 */
export function compareReplaceable(
  a: Pick<NostrEvent, 'created_at' | 'id'>,
  b: Pick<NostrEvent, 'created_at' | 'id'>,
): number {
  if (a.created_at !== b.created_at) return b.created_at - a.created_at;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

/** True when `candidate` must replace `current` (an older version arriving later never does). */
export function replacesCurrent(
  candidate: Pick<NostrEvent, 'created_at' | 'id'>,
  current: Pick<NostrEvent, 'created_at' | 'id'>,
): boolean {
  return compareReplaceable(candidate, current) < 0;
}
