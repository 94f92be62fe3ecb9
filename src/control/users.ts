/**
 * Users: app metadata keyed by the external auth id, created lazily the first time a token is issued
 * for that id or it creates an organization or a project (or is added to one).
 */
import { desc, eq } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { users } from '../db/schema/index.js';
import { notFound } from './errors.js';
import { keysetWhere, pageSize, toPage, type Page, type PageRequest } from './pagination.js';

export type UserRow = typeof users.$inferSelect;

/** Returns the user for an external id, creating it on first sight (safe under concurrency). */
export async function ensureUser(db: Queryable, externalId: string): Promise<UserRow> {
  await db.insert(users).values({ userId: externalId }).onConflictDoNothing({ target: users.userId });
  const rows = await db.select().from(users).where(eq(users.userId, externalId));
  const row = rows[0];
  if (!row) throw new Error(`user ${externalId} vanished right after its creation`);
  return row;
}

export async function findUser(db: Queryable, externalId: string): Promise<UserRow | null> {
  const rows = await db.select().from(users).where(eq(users.userId, externalId));
  return rows[0] ?? null;
}

export async function getUser(db: Queryable, externalId: string): Promise<UserRow> {
  const row = await findUser(db, externalId);
  if (!row) throw notFound('user');
  return row;
}

/** What a user may change about themselves. */
export interface ProfilePatch {
  name?: string | null | undefined;
  username?: string | null | undefined;
  email?: string | null | undefined;
  image?: string | null | undefined;
  referrerId?: string | null | undefined;
}

/** What only an admin (the app's backend) may change: billing. */
export interface BillingPatch extends ProfilePatch {
  credits?: number | undefined;
  plan?: 'free' | 'pro' | 'enterprise' | undefined;
  stripeCustomerId?: string | null | undefined;
}

export async function updateUser(db: Queryable, externalId: string, patch: BillingPatch): Promise<UserRow> {
  const rows = await db
    .update(users)
    .set({ ...definedOnly(patch), updatedAt: new Date() })
    .where(eq(users.userId, externalId))
    .returning();
  if (!rows[0]) throw notFound('user');
  return rows[0];
}

export async function listUsers(db: Queryable, request: PageRequest): Promise<Page<UserRow>> {
  const limit = pageSize(request);
  const where = keysetWhere({ id: users.id, direction: 'desc' }, request.cursor);
  const rows = await db.select().from(users).where(where).orderBy(desc(users.id)).limit(limit + 1);
  return toPage(rows, limit, (r) => [r.id]);
}

export async function deleteUser(db: Queryable, externalId: string): Promise<void> {
  const rows = await db.delete(users).where(eq(users.userId, externalId)).returning({ id: users.id });
  if (!rows[0]) throw notFound('user');
}

/** Drops keys whose value is undefined, so a PATCH only touches what it names. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

