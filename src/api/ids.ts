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

/** Decoded NIP-19 payloads are hex of whatever length was encoded: only 32 bytes is an id or a key. */
const exact32 = (hex: string): string | null => (HEX64.test(hex) ? hex.toLowerCase() : null);

export function parseEventId(value: string): string | null {
  if (HEX64.test(value)) return value.toLowerCase();
  const decoded = bech32(value);
  if (decoded?.type === 'note') return exact32(decoded.data);
  if (decoded?.type === 'nevent') return exact32(decoded.data.id);
  return null;
}

export function parsePubkey(value: string): string | null {
  if (HEX64.test(value)) return value.toLowerCase();
  const decoded = bech32(value);
  if (decoded?.type === 'npub') return exact32(decoded.data);
  if (decoded?.type === 'nprofile') return exact32(decoded.data.pubkey);
  return null;
}

/** `34550:<owner hex>:<d>` or an naddr1 of kind 34550. */
export function parseCommunityAddress(value: string): string | null {
  const match = /^34550:([0-9a-fA-F]{64}):(.{0,256})$/s.exec(value);
  if (match) return `${COMMUNITY_KIND}:${match[1]!.toLowerCase()}:${match[2]!}`;
  const decoded = bech32(value);
  if (decoded?.type === 'naddr' && decoded.data.kind === COMMUNITY_KIND) {
    const owner = exact32(decoded.data.pubkey);
    if (!owner || decoded.data.identifier.length > 256) return null;
    return `${COMMUNITY_KIND}:${owner}:${decoded.data.identifier}`;
  }
  return null;
}
