/**
 * Who may see a row. A caller is the user behind a token. A resource with owner fields belongs either
 * to a user (organization_id null: only that user reaches it) or to an organization (every member
 * reaches it). Queries filter by reach, so a row outside it is simply not found: no existence leak.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/client.js';
import { organizationMembers } from '../db/schema/index.js';
import { notFound } from './errors.js';

export interface Caller {
  /** External auth id (users.user_id). */
  userId: string;
  /** The token's admin flag (minted by the CLI only). */
  admin: boolean;
  tokenId: string;
}

export interface OwnedColumns {
  userId: PgColumn;
  organizationId: PgColumn;
}

/** The caller's organizations, as a subquery. */
export function memberOrganizations(userId: string): SQL {
  return sql`(SELECT ${organizationMembers.organizationId} FROM ${organizationMembers} WHERE ${organizationMembers.userId} = ${userId})`;
}

/** True for rows the caller reaches: their personal rows, and their organizations' rows. */
export function inReach(columns: OwnedColumns, caller: Pick<Caller, 'userId'>): SQL {
  return sql`((${columns.organizationId} IS NULL AND ${columns.userId} = ${caller.userId}) OR ${columns.organizationId} IN ${memberOrganizations(caller.userId)})`;
}

export type Role = 'owner' | 'member';

/** The caller's role in an organization, or null when not a member. */
export async function roleIn(db: Queryable, organizationId: string, userId: string): Promise<Role | null> {
  const rows = await db
    .select({ role: organizationMembers.role })
    .from(organizationMembers)
    .where(and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)));
  return (rows[0]?.role as Role | undefined) ?? null;
}

/** Membership required (an organization the caller is not in does not exist for them). */
export async function requireMember(db: Queryable, organizationId: string, caller: Caller): Promise<Role> {
  const role = await roleIn(db, organizationId, caller.userId);
  if (!role) throw notFound('organization');
  return role;
}

/** Where a new owned row goes: the caller's own, or an organization they belong to. */
export async function ownerFor(
  db: Queryable,
  caller: Caller,
  organizationId: string | null | undefined,
): Promise<{ userId: string | null; organizationId: string | null }> {
  if (!organizationId) return { userId: caller.userId, organizationId: null };
  await requireMember(db, organizationId, caller);
  return { userId: null, organizationId };
}
