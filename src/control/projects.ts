/**
 * Projects (owned rows) and the repositories linked to them. A repository row belongs to a tenant,
 * the owner of the project that linked it (a user, or an organization whose members share it): one
 * row per tenant and provider/owner/name, never shared across tenants (its url may hold credentials).
 */
import { and, asc, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { AppDatabase, Queryable } from '../db/client.js';
import { projectRepos, projects, repos } from '../db/schema/index.js';
import { notFound } from './errors.js';
import { ownedStore } from './owned.js';
import { keysetWhere, pageSize, toPage, type Page, type PageRequest } from './pagination.js';
import { inReach, ownerFor, type Caller } from './scope.js';
import { definedOnly, ensureUser } from './users.js';

export type ProjectRow = typeof projects.$inferSelect;
export type RepoRow = typeof repos.$inferSelect;

/** Most recently updated first. */
export const projectStore = ownedStore(projects, 'project', {
  column: projects.updatedAt,
  kind: 'date',
  direction: 'desc',
  cursorKey: (r) => [r.updatedAt.toISOString(), r.id],
});

export const getProject = (db: Queryable, caller: Caller, id: string) => projectStore.get(db, caller, id);

export interface ProjectInput {
  name: string;
  description?: string | null | undefined;
  organizationId?: string | null | undefined;
  systemPrompt?: string | null | undefined;
  defaultModel?: string | null | undefined;
  defaultTools?: string[] | null | undefined;
  autopilotSpec?: string | null | undefined;
  autopilotPlan?: unknown;
  isArchived?: boolean | undefined;
}

export async function createProject(database: AppDatabase, caller: Caller, input: ProjectInput): Promise<ProjectRow> {
  return database.transaction(async (tx) => {
    await ensureUser(tx, caller.userId);
    const { organizationId, autopilotPlan, ...rest } = input;
    const owner = await ownerFor(tx, caller, organizationId);
    const rows = await tx
      .insert(projects)
      .values({
        ...definedOnly(rest),
        ...(autopilotPlan !== undefined ? { autopilotPlan, autopilotPlanUpdatedAt: new Date() } : {}),
        name: input.name,
        ...owner,
      })
      .returning();
    return rows[0] as ProjectRow;
  });
}

export async function updateProject(
  db: Queryable,
  caller: Caller,
  id: string,
  patch: Omit<Partial<ProjectInput>, 'organizationId'>,
): Promise<ProjectRow> {
  const { autopilotPlan, ...rest } = patch;
  return projectStore.update(db, caller, id, {
    ...rest,
    ...(autopilotPlan !== undefined ? { autopilotPlan, autopilotPlanUpdatedAt: new Date() } : {}),
  });
}

export interface RepoInput {
  provider?: string | undefined;
  owner: string;
  name: string;
  defaultBranch?: string | null | undefined;
  url?: string | null | undefined;
}

/** Links a repository to a project, creating the tenant's repository row on first sight. */
export async function linkRepo(database: AppDatabase, caller: Caller, projectId: string, input: RepoInput): Promise<RepoRow> {
  return database.transaction(async (tx) => {
    const project = await getProject(tx, caller, projectId);
    const provider = input.provider ?? 'github';
    // The tenant is the project's owner: exactly one of the two is set.
    const tenant = { userId: project.organizationId ? null : project.userId, organizationId: project.organizationId };
    await tx
      .insert(repos)
      .values({ ...tenant, provider, owner: input.owner, name: input.name, defaultBranch: input.defaultBranch ?? null, url: input.url ?? null })
      .onConflictDoNothing();
    const [repo] = await tx
      .select()
      .from(repos)
      .where(
        and(
          tenant.organizationId ? eq(repos.organizationId, tenant.organizationId) : and(isNull(repos.organizationId), eq(repos.userId, tenant.userId!)),
          eq(repos.provider, provider),
          eq(repos.owner, input.owner),
          eq(repos.name, input.name),
        ),
      );
    const row = repo as RepoRow;
    await tx.insert(projectRepos).values({ projectId, repoId: row.id }).onConflictDoNothing();
    return row;
  });
}

export async function listProjectRepos(db: Queryable, caller: Caller, projectId: string, request: PageRequest): Promise<Page<RepoRow>> {
  await getProject(db, caller, projectId);
  const limit = pageSize(request);
  const rows = await db
    .select(getTableColumns(repos))
    .from(repos)
    .innerJoin(projectRepos, eq(projectRepos.repoId, repos.id))
    .where(and(eq(projectRepos.projectId, projectId), keysetWhere({ id: repos.id, direction: 'asc' }, request.cursor)))
    .orderBy(asc(repos.id))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => [r.id]);
}

/** The caller's tenants' repositories: personal ones and their organizations'. */
const repoInReach = (caller: Caller) => inReach(repos, caller);

export async function getRepo(db: Queryable, caller: Caller, id: string): Promise<RepoRow> {
  const rows = await db.select().from(repos).where(and(eq(repos.id, id), repoInReach(caller)));
  if (!rows[0]) throw notFound('repo');
  return rows[0];
}

export async function updateRepo(
  db: Queryable,
  caller: Caller,
  id: string,
  patch: { defaultBranch?: string | null | undefined; url?: string | null | undefined },
): Promise<RepoRow> {
  const values = definedOnly(patch);
  if (Object.keys(values).length === 0) return getRepo(db, caller, id);
  const rows = await db.update(repos).set(values).where(and(eq(repos.id, id), repoInReach(caller))).returning();
  if (!rows[0]) throw notFound('repo');
  return rows[0];
}

/** Unlinks; a repository no project links any more is deleted. */
export async function unlinkRepo(database: AppDatabase, caller: Caller, projectId: string, repoId: string): Promise<void> {
  await database.transaction(async (tx) => {
    await getProject(tx, caller, projectId);
    const removed = await tx
      .delete(projectRepos)
      .where(and(eq(projectRepos.projectId, projectId), eq(projectRepos.repoId, repoId)))
      .returning({ repoId: projectRepos.repoId });
    if (!removed[0]) throw notFound('repo');
    await tx.execute(sql`DELETE FROM ${repos} WHERE ${repos.id} = ${repoId} AND NOT EXISTS (SELECT 1 FROM ${projectRepos} WHERE ${projectRepos.repoId} = ${repoId})`);
  });
}
