/**
 * NIP-22 comments (kind 1111): where a comment hangs (root scope, uppercase tags) and what it
 * answers (parent, lowercase tags), plus the Clawstr subclaw it belongs to. `q` tags are quotes and
 * are never read here, so a quoted event cannot become a parent.
 */
import type { NostrEvent } from '../types.js';
import { canonicalIdentifier } from './nip73-identifier.js';
import { firstValid, firstValue, isAddress, isHex64, tagValues } from './tags.js';

type Tags = NostrEvent['tags'];

export interface CommentThread {
  /** `E`, else `A`, else canonical `I`. */
  root_id: string | null;
  /** First `e`, else `a`, else canonical `i`. */
  parent_id: string | null;
  /** `K`: root kind or NIP-73 type. */
  root_kind: string | null;
  /** `k`: parent kind (`1111` for a reply to a comment). */
  parent_kind: string | null;
  /** Canonical `I`, else canonical `i`. */
  identifier: string | null;
  subclaw: string | null;
  is_top_level: boolean;
  malformed: boolean;
}

/** One scope tag family: event id, address or external id, each with its own validity rule. */
interface Pointers {
  e: string | null;
  a: string | null;
  i: string | null;
}

function firstCanonical(tags: Tags, name: string): string | null {
  for (const v of tagValues(tags, name)) {
    const id = canonicalIdentifier(v);
    if (id !== null) return id;
  }
  return null;
}

/** Reads `E`/`A`/`I` (upper = true) or `e`/`a`/`i`. Malformed values count as absent. */
function pointers(tags: Tags, upper: boolean): Pointers {
  const name = (n: string) => (upper ? n.toUpperCase() : n);
  return {
    e: firstValid(tags, name('e'), isHex64),
    a: firstValid(tags, name('a'), isAddress),
    i: firstCanonical(tags, name('i')),
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One way a post names its subclaw: the canonical root identifier it carries and the root kind
 * (`K`) it goes with. The list is the normaliser's own (subclawOf reads only these), so a check that
 * live ingest asks for every form can be derived from it.
 */
export interface SubclawForm {
  /** The `K` a post of this form carries. */
  rootKind: string;
  /** Whether the subclaw is recognised only with that `K` (the legacy form), or with any. */
  requiresRootKind: boolean;
  /** The identifier of subclaw `name` on `base` (bases matter only to the URL form). */
  identifier(name: string, base: string): string;
  /** The subclaw named, or null when the identifier is not of this form. */
  subclawOf(identifier: string, scopeKind: string | null, bases: readonly string[]): string | null;
}

export const SUBCLAW_FORMS: readonly SubclawForm[] = [
  {
    // Clawstr's: I = https://<base>/c/<name>, K = web (a NIP-73 URL).
    rootKind: 'web',
    requiresRootKind: false,
    identifier: (name, base) => `https://${base}/c/${name}`,
    subclawOf(identifier, _scopeKind, bases) {
      if (bases.length === 0) return null;
      const hosts = bases.map((b) => escapeRegExp(b.toLowerCase())).join('|');
      const m = new RegExp(`^https://(?:${hosts})/c/([a-z0-9_-]+)/?$`, 'i').exec(identifier);
      return m ? (m[1] as string).toLowerCase() : null;
    },
  },
  {
    // The older form: I = #<name>, K = #.
    rootKind: '#',
    requiresRootKind: true,
    identifier: (name) => `#${name}`,
    subclawOf(identifier, scopeKind) {
      const m = /^#([a-z0-9_-]+)$/i.exec(identifier);
      return m && scopeKind === '#' ? (m[1] as string).toLowerCase() : null;
    },
  },
];

/**
 * The subclaw named by a canonical identifier in one of SUBCLAW_FORMS: `https://<base>/c/<name>`
 * for a configured base, or the legacy `#<name>` form whose scope kind is `#`. Lowercased, so
 * `/c/AI` and `/c/ai` are one.
 */
export function subclawOf(
  identifier: string | null,
  scopeKind: string | null,
  bases: readonly string[],
): string | null {
  if (identifier === null) return null;
  for (const form of SUBCLAW_FORMS) {
    const name = form.subclawOf(identifier, scopeKind, bases);
    if (name !== null) return name;
  }
  return null;
}

/**
 * Threads a kind-1111 comment. Top-level means the parent repeats the root (same tag family, same
 * value, and `k` = `K` when both are given); a comment naming a root but no parent at all is also
 * top-level, flagged malformed. A comment without a root scope is malformed and not top-level.
 */
export function parseComment(event: Pick<NostrEvent, 'tags'>, subclawBases: readonly string[]): CommentThread {
  const { tags } = event;
  const root = pointers(tags, true);
  const parent = pointers(tags, false);
  const rootKind = firstValue(tags, 'K');
  const parentKind = firstValue(tags, 'k');

  const rootId = root.e ?? root.a ?? root.i;
  const parentId = parent.e ?? parent.a ?? parent.i;

  const kindsAgree = rootKind === null || parentKind === null || rootKind === parentKind;
  const repeatsRoot =
    kindsAgree &&
    ((root.e !== null && root.e === parent.e) ||
      (root.a !== null && root.a === parent.a) ||
      (root.i !== null && root.i === parent.i));

  let isTopLevel = false;
  let malformed = false;
  if (rootId === null) malformed = true;
  else if (parentId === null) {
    isTopLevel = true;
    malformed = true;
  } else isTopLevel = repeatsRoot;

  const identifier = root.i ?? parent.i;
  const scopeKind = root.i !== null ? rootKind : parentKind;
  return {
    root_id: rootId,
    parent_id: parentId,
    root_kind: rootKind,
    parent_kind: parentKind,
    identifier,
    subclaw: subclawOf(identifier, scopeKind, subclawBases),
    is_top_level: isTopLevel,
    malformed,
  };
}
