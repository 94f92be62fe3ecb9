/** Issues (owned rows) and the chat threads linked to them. */
import { and, asc, eq, getTableColumns } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { issueThreads, issues, threads } from '../db/schema/index.js';
import { notFound } from './errors.js';
import { sameOwnerProject } from './knowledge.js';
import { ownedStore } from './owned.js';
import { keysetWhere, pageSize, toPage, type Page, type PageRequest } from './pagination.js';
import { ownerFor, type Caller } from './scope.js';
import { threadStore, type ThreadRow } from './threads.js';
import { definedOnly } from './users.js';

export type IssueRow = typeof issues.$inferSelect;

export const issueStore = ownedStore(issues, 'issue', { direction: 'desc', cursorKey: (r) => [r.id] });

export interface IssueInput {
  identifier?: string | null | undefined;
  title: string;
  description?: string | null | undefined;
  statusId?: string | null | undefined;
  priorityId?: string | null | undefined;
  assigneeId?: string | null | undefined;
  labelIds?: string[] | undefined;
  rank?: string | null | undefined;
  dueDate?: string | null | undefined;
  organizationId?: string | null | undefined;
  projectId?: string | null | undefined;
}

export async function createIssue(db: Queryable, caller: Caller, input: IssueInput): Promise<IssueRow> {
  const { organizationId, ...rest } = input;
  const owner = await ownerFor(db, caller, organizationId);
  if (input.projectId) await sameOwnerProject(db, caller, input.projectId, owner.organizationId);
  const rows = await db
    .insert(issues)
    .values({ ...definedOnly(rest), title: input.title, ...owner })
    .returning();
  return rows[0] as IssueRow;
}

export async function updateIssue(db: Queryable, caller: Caller, id: string, patch: Omit<Partial<IssueInput>, 'organizationId'>): Promise<IssueRow> {
  if (patch.projectId) {
    const current = await issueStore.get(db, caller, id);
    await sameOwnerProject(db, caller, patch.projectId, current.organizationId);
  }
  return issueStore.update(db, caller, id, patch);
}

export async function listIssueThreads(db: Queryable, caller: Caller, issueId: string, request: PageRequest): Promise<Page<ThreadRow>> {
  await issueStore.get(db, caller, issueId);
  const limit = pageSize(request);
  const rows = await db
    .select(getTableColumns(threads))
    .from(threads)
    .innerJoin(issueThreads, eq(issueThreads.threadId, threads.id))
    .where(and(eq(issueThreads.issueId, issueId), keysetWhere({ id: threads.id, direction: 'asc' }, request.cursor)))
    .orderBy(asc(threads.id))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => [r.id]);
}

/** Links a thread to an issue; both must be in the caller's reach. Linking twice is a no-op. */
export async function linkIssueThread(db: Queryable, caller: Caller, issueId: string, threadId: string): Promise<void> {
  await issueStore.get(db, caller, issueId);
  await threadStore.get(db, caller, threadId);
  await db.insert(issueThreads).values({ issueId, threadId }).onConflictDoNothing();
}

export async function unlinkIssueThread(db: Queryable, caller: Caller, issueId: string, threadId: string): Promise<void> {
  await issueStore.get(db, caller, issueId);
  const rows = await db
    .delete(issueThreads)
    .where(and(eq(issueThreads.issueId, issueId), eq(issueThreads.threadId, threadId)))
    .returning({ threadId: issueThreads.threadId });
  if (!rows[0]) throw notFound('thread link');
}
