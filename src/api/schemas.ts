/**
 * The zod schemas of the read API: inputs (validated, 400 naming the field on failure) and
 * responses (documented in /openapi.json). Query values arrive as strings; numbers are parsed
 * strictly (digits only), so "1e3" or " 5" are rejected rather than guessed.
 */
import { z } from '@hono/zod-openapi';
import { parseCommunityAddress, parseEventId, parsePubkey } from './ids.js';

export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 50;

/** A positive integer in [min, max] from a query string. */
export function intParam(min: number, max: number, example: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, 'expected a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: 'integer', minimum: min, maximum: max, example });
}

export const unixTime = z
  .string()
  .regex(/^\d{1,11}$/, 'expected unix seconds')
  .transform(Number)
  .openapi({ type: 'integer', description: 'unix seconds', example: 1750000000 });

export const eventIdParam = z
  .string()
  .refine((v) => parseEventId(v) !== null, 'expected a hex event id, note1 or nevent1')
  .openapi({ description: 'hex event id, note1… or nevent1…', example: 'a'.repeat(64) });

export const pubkeyParam = z
  .string()
  .refine((v) => parsePubkey(v) !== null, 'expected a hex pubkey, npub1 or nprofile1')
  .openapi({ description: 'hex pubkey, npub1… or nprofile1…', example: 'b'.repeat(64) });

export const communityParam = z
  .string()
  .refine((v) => parseCommunityAddress(v) !== null, 'expected a community address 34550:<pubkey>:<d> or naddr1')
  .openapi({ description: 'NIP-72 address 34550:<owner hex>:<d>, or naddr1…', example: `34550:${'c'.repeat(64)}:dev` });

export const subclawParam = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a subclaw name ([a-z0-9_-], up to 64)')
  .transform((v) => v.toLowerCase())
  .openapi({ type: 'string', example: 'ai' });

export const cursorParam = z.string().min(1).max(1024).openapi({ description: 'opaque cursor from next_cursor' });
export const limitParam = intParam(1, MAX_LIMIT, DEFAULT_LIMIT).optional().openapi({ description: `1–${MAX_LIMIT}, default ${DEFAULT_LIMIT}` });

export const aiFilter = z.enum(['all', 'only', 'exclude']);
export const feedSort = z.enum(['new', 'top', 'hot']);
export const feedWindow = z.enum(['hour', 'day', 'week', 'month', 'year', 'all']);

/** Filters shared by every feed (global, community, author). */
export const feedFilters = {
  ai: aiFilter.optional().openapi({ description: 'AI-authored posts: all, only, exclude (default from FEED_AI_DEFAULT)' }),
  since: unixTime.optional(),
  until: unixTime.optional(),
  sort: feedSort.optional().openapi({ description: 'new (default), top, hot' }),
  window: feedWindow.optional().openapi({ description: 'top/hot only: period counted back from now (default: day for top, week for hot)' }),
  limit: limitParam,
  cursor: cursorParam.optional(),
};

export const feedQuery = z.object({
  subclaw: subclawParam.optional(),
  community: communityParam.optional(),
  author: pubkeyParam.optional(),
  ...feedFilters,
});

export const communityFeedQuery = z.object({
  approved: z.enum(['only', 'all']).optional().openapi({ description: 'only (default): posts approved by the owner or a current moderator' }),
  ...feedFilters,
});

export const authorFeedQuery = z.object({ subclaw: subclawParam.optional(), ...feedFilters });

// ------------------------------------------------------------------------------ responses
export const AuthorSchema = z
  .object({
    pubkey: z.string(),
    npub: z.string(),
    name: z.string().nullable(),
    display_name: z.string().nullable(),
    picture: z.string().nullable(),
    nip05: z.string().nullable(),
  })
  .openapi('Author');

export const StatsSchema = z
  .object({
    replies: z.number().int().openapi({ description: 'direct NIP-22 replies' }),
    up: z.number().int(),
    down: z.number().int(),
    score: z.number().openapi({ description: 'up − down + 2·replies + zap_sats/10' }),
    zap_count: z.number().int().openapi({ description: 'zap receipts with validity ≥ 2' }),
    zap_sats: z.number().int(),
    zap_msat: z.string().openapi({ description: 'exact total in millisats (decimal string)' }),
  })
  .openapi('Stats');

export const PostSchema = z
  .object({
    id: z.string(),
    kind: z.number().int(),
    pubkey: z.string(),
    created_at: z.number().int(),
    content: z.string(),
    tags: z.array(z.array(z.string())),
    sig: z.string(),
    subclaw: z.string().nullable(),
    community: z.string().nullable(),
    identifier: z.string().nullable(),
    root_id: z.string().nullable(),
    parent_id: z.string().nullable(),
    is_ai: z.boolean(),
    expires_at: z.number().int().nullable(),
    author: AuthorSchema,
    stats: StatsSchema,
    approved: z.boolean().optional().openapi({ description: 'community feeds: a valid approval exists' }),
    depth: z.number().int().optional().openapi({ description: 'threads: 1 = direct reply of the requested event' }),
    hot: z.number().optional().openapi({ description: 'sort=hot: the hot score used for ranking' }),
  })
  .openapi('Post');

export const ProfileSchema = z
  .object({
    pubkey: z.string(),
    npub: z.string(),
    name: z.string().nullable(),
    display_name: z.string().nullable(),
    picture: z.string().nullable(),
    about: z.string().nullable(),
    nip05: z.string().nullable(),
    lud16: z.string().nullable(),
    lud06: z.string().nullable(),
    banner: z.string().nullable(),
    website: z.string().nullable(),
    bot: z.boolean().nullable(),
    content_valid: z.boolean().openapi({ description: 'false when the kind-0 content was not a JSON object' }),
    event_id: z.string(),
    updated_at: z.number().int().openapi({ description: "the winning kind-0's created_at" }),
  })
  .openapi('Profile');

export const CommunitySchema = z
  .object({
    address: z.string(),
    owner: z.string(),
    d: z.string(),
    name: z.string().nullable(),
    description: z.string().nullable(),
    image: z.string().nullable(),
    relays: z.array(z.string()),
    moderators: z.array(z.string()).openapi({ description: 'moderators of the latest definition (the owner is implied)' }),
    event_id: z.string(),
    created_at: z.number().int(),
    post_count: z.number().int().openapi({ description: 'live top-level posts, approved or not' }),
    last_post_at: z.number().int().nullable(),
  })
  .openapi('Community');

export const ZapSchema = z
  .object({
    receipt_id: z.string(),
    receipt_pubkey: z.string(),
    sender: z.string().nullable(),
    sender_verified: z.boolean(),
    recipient: z.string().nullable(),
    amount_msat: z.string().nullable(),
    amount_sats: z.number().int().nullable(),
    amount_from_request: z.boolean(),
    validity: z.number().int().openapi({ description: '0–3; totals count ≥ 2' }),
    comment: z.string().nullable(),
    created_at: z.number().int(),
  })
  .openapi('Zap');

export const PageSchema = z
  .object({ items: z.array(PostSchema), next_cursor: z.string().nullable() })
  .openapi('PostPage');

export const ErrorSchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown() }),
  })
  .openapi('Error');

export const errorResponses = {
  400: { description: 'invalid input; details.issues names each bad field', content: { 'application/json': { schema: ErrorSchema } } },
  401: { description: 'a token is required (READS_REQUIRE_TOKEN)', content: { 'application/json': { schema: ErrorSchema } } },
};

export const notFoundResponse = {
  404: { description: 'unknown id, or deleted/expired', content: { 'application/json': { schema: ErrorSchema } } },
};

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { 200: { description, content: { 'application/json': { schema } } } };
}
