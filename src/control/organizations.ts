/**
 * Organizations and their members. Members read the organization and its rows; owners alone manage
 * it (rename, delete, add, remove and re-role members). An organization always keeps an owner.
 * A member may leave on their own.
 */
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { query, type AppDatabase, type Queryable } from '../db/client.js';
import { organizationMembers, organizations } from '../db/schema/index.js';
import { conflict, forbidden, notFound } from './errors.js';
import { keysetWhere, pageSize, toPage, type Page, type PageRequest } from './pagination.js';
import { requireMember, type Caller, type Role } from './scope.js';
import { definedOnly, ensureUser } from './users.js';

export type OrganizationRow = typeof organizations.$inferSelect;
export type MemberRow = typeof organizationMembers.$inferSelect;
export type OrganizationWithRole = OrganizationRow & { role: Role };

export async function createOrganization(
  database: AppDatabase,
  caller: Caller,
  input: { name: string; logo?: string | null | undefined },
): Promise<OrganizationWithRole> {
  return database.transaction(async (tx) => {
    await ensureUser(tx, caller.userId);
    const [org] = await tx
      .insert(organizations)
      .values({ name: input.name, logo: input.logo ?? null, ownerId: caller.userId })
      .returning();
    const row = org as OrganizationRow;
    await tx.insert(organizationMembers).values({ organizationId: row.id, userId: caller.userId, role: 'owner' });
    return { ...row, role: 'owner' as const };
  });
}

export async function listOrganizations(db: Queryable, caller: Caller, request: PageRequest): Promise<Page<OrganizationWithRole>> {
  const limit = pageSize(request);
  const rows = await db
    .select({ organization: organizations, role: organizationMembers.role })
    .from(organizations)
    .innerJoin(organizationMembers, eq(organizationMembers.organizationId, organizations.id))
    .where(and(eq(organizationMembers.userId, caller.userId), keysetWhere({ id: organizations.id, direction: 'desc' }, request.cursor)))
    .orderBy(desc(organizations.id))
    .limit(limit + 1);
  return toPage(
    rows.map((r) => ({ ...r.organization, role: r.role as Role })),
    limit,
    (r) => [r.id],
  );
}

export async function getOrganization(db: Queryable, caller: Caller, id: string): Promise<OrganizationWithRole> {
  const role = await requireMember(db, id, caller);
  const rows = await db.select().from(organizations).where(eq(organizations.id, id));
  if (!rows[0]) throw notFound('organization');
  return { ...rows[0], role };
}

/** Owners only; a member learns they may not (403), anyone else that it does not exist (404). */
export async function requireOwner(db: Queryable, organizationId: string, caller: Caller): Promise<void> {
  const role = await requireMember(db, organizationId, caller);
  if (role !== 'owner') throw forbidden('only an owner of the organization may do this');
}

export async function updateOrganization(
  db: Queryable,
  caller: Caller,
  id: string,
  patch: { name?: string | undefined; logo?: string | null | undefined },
): Promise<OrganizationWithRole> {
  await requireOwner(db, id, caller);
  const rows = await db
    .update(organizations)
    .set({ ...definedOnly(patch), updatedAt: new Date() })
    .where(eq(organizations.id, id))
    .returning();
  if (!rows[0]) throw notFound('organization');
  return { ...rows[0], role: 'owner' };
}

/** Billing fields, written by an admin (the app's backend) whatever its memberships. */
export async function updateOrganizationBilling(
  db: Queryable,
  id: string,
  patch: { plan?: 'free' | 'pro' | 'enterprise' | undefined; credits?: number | undefined },
): Promise<OrganizationRow> {
  const rows = await db
    .update(organizations)
    .set({ ...definedOnly(patch), updatedAt: new Date() })
    .where(eq(organizations.id, id))
    .returning();
  if (!rows[0]) throw notFound('organization');
  return rows[0];
}

export async function deleteOrganization(db: Queryable, caller: Caller, id: string): Promise<void> {
  await requireOwner(db, id, caller);
  await db.delete(organizations).where(eq(organizations.id, id));
}

export async function listMembers(db: Queryable, caller: Caller, organizationId: string, request: PageRequest): Promise<Page<MemberRow>> {
  await requireMember(db, organizationId, caller);
  const limit = pageSize(request);
  const rows = await db
    .select()
    .from(organizationMembers)
    .where(
      and(
        eq(organizationMembers.organizationId, organizationId),
        keysetWhere({ id: organizationMembers.id, direction: 'asc' }, request.cursor),
      ),
    )
    .orderBy(asc(organizationMembers.id))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => [r.id]);
}

export async function addMember(
  database: AppDatabase,
  caller: Caller,
  organizationId: string,
  input: { userId: string; role: Role },
): Promise<MemberRow> {
  return database.transaction(async (tx) => {
    await requireOwner(tx, organizationId, caller);
    await ensureUser(tx, input.userId);
    const rows = await tx
      .insert(organizationMembers)
      .values({ organizationId, userId: input.userId, role: input.role })
      .onConflictDoNothing()
      .returning();
    if (!rows[0]) throw conflict(`${input.userId} is already a member`);
    return rows[0];
  });
}

async function getMember(db: Queryable, organizationId: string, userId: string): Promise<MemberRow> {
  const rows = await db
    .select()
    .from(organizationMembers)
    .where(and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)));
  if (!rows[0]) throw notFound('member');
  return rows[0];
}

/** Refuses a change that would leave the organization without an owner (locks its owner rows). */
async function keepAnOwner(db: Queryable, organizationId: string, leaving: MemberRow): Promise<void> {
  if (leaving.role !== 'owner') return;
  const owners = await query<{ id: string }>(
    db,
    sql`SELECT id FROM organization_members WHERE organization_id = ${organizationId} AND role = 'owner' FOR UPDATE`,
  );
  if (owners.length <= 1) throw conflict('an organization must keep at least one owner');
}

export async function updateMemberRole(
  database: AppDatabase,
  caller: Caller,
  organizationId: string,
  userId: string,
  role: Role,
): Promise<MemberRow> {
  return database.transaction(async (tx) => {
    await requireOwner(tx, organizationId, caller);
    const member = await getMember(tx, organizationId, userId);
    if (member.role === role) return member;
    if (role === 'member') await keepAnOwner(tx, organizationId, member);
    const rows = await tx.update(organizationMembers).set({ role }).where(eq(organizationMembers.id, member.id)).returning();
    return rows[0] as MemberRow;
  });
}

/** An owner removes anyone; a member may remove only themself (leave). */
export async function removeMember(database: AppDatabase, caller: Caller, organizationId: string, userId: string): Promise<void> {
  await database.transaction(async (tx) => {
    const role = await requireMember(tx, organizationId, caller);
    if (role !== 'owner' && userId !== caller.userId) throw forbidden('only an owner may remove another member');
    const member = await getMember(tx, organizationId, userId);
    await keepAnOwner(tx, organizationId, member);
    await tx.delete(organizationMembers).where(eq(organizationMembers.id, member.id));
  });
}
