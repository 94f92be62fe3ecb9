/**
 * Kind-0 metadata (NIP-01, NIP-24, NIP-05). The content is a JSON object written by any client,
 * so every field is type-checked: a number where a string belongs is dropped, not coerced.
 */
import type { ProfileFields } from '../types.js';

const STRING_FIELDS = ['name', 'about', 'picture', 'banner', 'website', 'nip05', 'lud16', 'lud06'] as const;

/** All fields null: what an unparseable profile normalises to (the raw event is still stored). */
export function emptyProfile(): ProfileFields {
  return {
    name: null,
    display_name: null,
    about: null,
    picture: null,
    banner: null,
    website: null,
    nip05: null,
    lud16: null,
    lud06: null,
    bot: null,
    content_valid: false,
  };
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Parses kind-0 content. Arrays, `null` and scalars are valid JSON but not profiles. */
export function parseProfile(content: string): ProfileFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return emptyProfile();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return emptyProfile();
  const obj = parsed as Record<string, unknown>;

  const profile = emptyProfile();
  profile.content_valid = true;
  for (const key of STRING_FIELDS) profile[key] = stringOrNull(obj[key]);
  // NIP-24: `displayName` is the deprecated spelling; the standard one wins when both are strings.
  profile.display_name = stringOrNull(obj['display_name']) ?? stringOrNull(obj['displayName']);
  // NIP-24 `bot` is a boolean; "true" or 1 are not accepted, so a typo cannot mark a human as a bot.
  profile.bot = typeof obj['bot'] === 'boolean' ? obj['bot'] : null;
  return profile;
}
