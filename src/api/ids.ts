/**
 * Identifiers a client may send: hex ids (64 hex digits, normalised to lowercase) or their NIP-19
 * forms (note1/nevent1 for events, npub1/nprofile1 for pubkeys, naddr1 for community addresses).
 * Each parser returns null for anything else, so the schemas can refine with them.
 */
import { decode } from 'nostr-tools/nip19';

const HEX64 = /^[0-9a-fA-F]{64}$/;
const COMMUNITY_KIND = 34550;

function bech32(value: string): ReturnType<typeof decode> | null {
  if (value.length > 1000) return null;
  try {
    return decode(value);
  } catch {
    return null;
  }
}

export function parseEventId(value: string): string | null {
  if (HEX64.test(value)) return value.toLowerCase();
  const decoded = bech32(value);
  if (decoded?.type === 'note') return decoded.data;
  if (decoded?.type === 'nevent') return decoded.data.id;
  return null;
}

export function parsePubkey(value: string): string | null {
  if (HEX64.test(value)) return value.toLowerCase();
  const decoded = bech32(value);
  if (decoded?.type === 'npub') return decoded.data;
  if (decoded?.type === 'nprofile') return decoded.data.pubkey;
  return null;
}

/** `34550:<owner hex>:<d>` or an naddr1 of kind 34550. */
export function parseCommunityAddress(value: string): string | null {
  const match = /^34550:([0-9a-fA-F]{64}):(.{0,256})$/s.exec(value);
  if (match) return `${COMMUNITY_KIND}:${match[1]!.toLowerCase()}:${match[2]!}`;
  const decoded = bech32(value);
  if (decoded?.type === 'naddr' && decoded.data.kind === COMMUNITY_KIND) {
    return `${COMMUNITY_KIND}:${decoded.data.pubkey}:${decoded.data.identifier}`;
  }
  return null;
}
