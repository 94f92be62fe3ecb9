/**
 * API tokens: `nc_` followed by the base64url form of 32 random bytes. Only the SHA-256 of a token is
 * stored (plus its first characters, to recognise it in a list); the token itself is shown once, at
 * creation. Lookup is by hash, through a unique index.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, isNull, like, or, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { apiTokens } from '../db/schema/index.js';
import { conflict, invalid, notFound } from './errors.js';
import { keysetWhere, pageSize, toPage, type Page, type PageRequest } from './pagination.js';
import { ensureUser } from './users.js';

export const TOKEN_PREFIX = 'nc_';
/** `nc_` + 43 base64url characters (32 bytes). */
export const TOKEN_PATTERN = /^nc_[A-Za-z0-9_-]{43}$/;
const SHOWN_PREFIX_LENGTH = TOKEN_PREFIX.length + 6;

export type TokenRow = typeof apiTokens.$inferSelect;
/** A token as listed: never its hash. */
export type TokenInfo = Omit<TokenRow, 'tokenHash'>;

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time equality of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface NewToken {
  /** External auth id; the user is created if it does not exist yet. */
  userId: string;
  name?: string | null | undefined;
  expiresAt?: Date | null | undefined;
  admin?: boolean | undefined;
}

/** Creates a token; the returned `token` is the only time it exists outside the caller's hands. */
export async function createToken(db: Queryable, input: NewToken): Promise<{ token: string; info: TokenInfo }> {
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw invalid('json.expires_at', 'invalid json.expires_at: must be in the future');
  await ensureUser(db, input.userId);
  const token = generateToken();
  const rows = await db
    .insert(apiTokens)
    .values({
      userId: input.userId,
      tokenHash: hashToken(token),
      tokenPrefix: token.slice(0, SHOWN_PREFIX_LENGTH),
      name: input.name ?? null,
      isAdmin: input.admin ?? false,
      expiresAt: input.expiresAt ?? null,
    })
    .returning();
  return { token, info: withoutHash(rows[0] as TokenRow) };
}

/** The token row for a presented token, whatever its state (the caller judges expiry and revocation). */
export async function findTokenByValue(db: Queryable, token: string): Promise<TokenRow | null> {
  const hash = hashToken(token);
  const rows = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hash));
  const row = rows[0];
  // The index found it by hash; compare again in constant time so equality never short-circuits.
  return row && sameHash(row.tokenHash, hash) ? row : null;
}

/** Sets last_used_at unless it was set less than `intervalSeconds` ago (by any process). */
export async function touchToken(db: Queryable, id: string, intervalSeconds: number): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiTokens.id, id),
        or(isNull(apiTokens.lastUsedAt), sql`${apiTokens.lastUsedAt} < now() - make_interval(secs => ${intervalSeconds})`),
      ),
    );
}

export async function listTokens(db: Queryable, filter: { userId?: string | undefined }, request: PageRequest): Promise<Page<TokenInfo>> {
  const limit = pageSize(request);
  const conditions: Array<SQL | undefined> = [keysetWhere({ id: apiTokens.id, direction: 'desc' }, request.cursor)];
  if (filter.userId !== undefined) conditions.push(eq(apiTokens.userId, filter.userId));
  const rows = await db
    .select()
    .from(apiTokens)
    .where(and(...conditions))
    .orderBy(desc(apiTokens.id))
    .limit(limit + 1);
  return toPage(rows.map(withoutHash), limit, (r) => [r.id]);
}

/**
 * Revokes one token, named by id or by its shown prefix (`nc_` + at least 6 characters), optionally
 * only among one user's tokens; the whole token is accepted too (looked up by hash). Revoking twice keeps the first revocation time.
 */
export async function revokeToken(db: Queryable, reference: string, filter: { userId?: string | undefined } = {}): Promise<TokenInfo> {
  let ref = reference;
  if (TOKEN_PATTERN.test(ref)) ref = (await findTokenByValue(db, ref))?.id ?? ref;
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
  if (!isUuid && !(ref.startsWith(TOKEN_PREFIX) && ref.length >= SHOWN_PREFIX_LENGTH)) {
    throw invalid('token', `"${ref}" is neither a token id nor a token prefix (nc_ and at least 6 characters)`);
  }
  const match = isUuid ? eq(apiTokens.id, ref) : like(apiTokens.tokenPrefix, `${ref.slice(0, SHOWN_PREFIX_LENGTH).replace(/[\\%_]/g, '\\$&')}%`);
  const scope = filter.userId !== undefined ? eq(apiTokens.userId, filter.userId) : undefined;
  const candidates = await db.select({ id: apiTokens.id }).from(apiTokens).where(and(match, scope));
  if (candidates.length === 0) throw notFound('token');
  if (candidates.length > 1) throw conflict(`prefix ${ref} matches ${candidates.length} tokens; use the token id`);
  const id = (candidates[0] as { id: string }).id;
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(eq(apiTokens.id, id))
    .returning();
  return withoutHash(rows[0] as TokenRow);
}

function withoutHash(row: TokenRow): TokenInfo {
  const { tokenHash: _hash, ...info } = row;
  return info;
}
