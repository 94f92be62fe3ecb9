/**
 * Relay sets and scopes (relays/*.json): which relays to read and what to follow on them. Validated
 * with zod; an error names the file and the bad field. Scopes are data, so adding one needs no code.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const relayUrl = z
  .string()
  .url()
  .refine((u) => /^wss?:\/\//i.test(u), 'must be a ws:// or wss:// URL')
  .transform((u) => normalizeRelayUrl(u));

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');

/** A NIP-01 filter without since/until/limit: the daemon sets those from its cursors. */
const scopeFilter = z
  .object({
    kinds: z.array(z.number().int().min(0).max(65535)).min(1).optional(),
    authors: z.array(hex64).optional(),
    ids: z.array(hex64).optional(),
  })
  .catchall(z.array(z.string()))
  .superRefine((filter, ctx) => {
    for (const key of Object.keys(filter)) {
      if (key === 'kinds' || key === 'authors' || key === 'ids') continue;
      if (!/^#[a-zA-Z]$/.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'filter keys are kinds, authors, ids or #<single letter>' });
      }
    }
  });

const batchSpec = z.object({
  /** The filter field filled with batched keys. */
  field: z.enum(['#e', 'authors']),
  /** Where the keys come from: ids of recent cached top-level posts, or pubkeys of recent authors. */
  source: z.enum(['recent_posts', 'authors_seen']),
  size: z.number().int().min(1).max(1000).default(200),
  refreshSeconds: z.number().int().min(5).default(300),
  windowDays: z.number().min(0.01).default(7),
});

const scope = z.object({
  description: z.string().optional(),
  filter: scopeFilter,
  batch: batchSpec.optional(),
});

export const relaySetSchema = z
  .object({
    $comment: z.string().optional(),
    primaries: z.array(relayUrl).min(1),
    fallbacks: z.array(relayUrl).default([]),
    scopes: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'scope names are lowercase letters, digits, - and _'), scope),
  })
  .strict()
  .refine((s) => Object.keys(s.scopes).length > 0, { message: 'at least one scope is required', path: ['scopes'] });

export type RelaySet = z.infer<typeof relaySetSchema>;
export type Scope = z.infer<typeof scope>;
export type ScopeFilter = z.infer<typeof scopeFilter>;
export type BatchSpec = z.infer<typeof batchSpec>;

export class RelaySetError extends Error {
  override name = 'RelaySetError';
}

/** Lowercase scheme and host, no trailing slash on a bare host: one spelling per relay. */
export function normalizeRelayUrl(url: string): string {
  const u = new URL(url);
  const path = u.pathname === '/' ? '' : u.pathname;
  return `${u.protocol}//${u.host.toLowerCase()}${path}${u.search}`;
}

export function parseRelaySet(value: unknown, source: string): RelaySet {
  const parsed = relaySetSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new RelaySetError(`${source}: ${problems}`);
  }
  const set = parsed.data;
  const overlap = set.fallbacks.filter((f) => set.primaries.includes(f));
  if (overlap.length > 0) throw new RelaySetError(`${source}: fallbacks: ${overlap.join(', ')} also listed as primary`);
  return set;
}

export function loadRelaySet(path: string): RelaySet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RelaySetError(`${path}: cannot read (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RelaySetError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseRelaySet(json, path);
}
