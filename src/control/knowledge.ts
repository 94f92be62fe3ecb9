/** Knowledge entries (owned rows with an optional embedding) and their vector search. */
import { and, eq, getTableColumns, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client.js';
import { knowledge } from '../db/schema/index.js';
import { ownedStore } from './owned.js';
import { inReach, ownerFor, type Caller } from './scope.js';
import { getProject } from './projects.js';
import { checkEmbedding, cosineRanking, runVectorQuery, type VectorSupport } from './vector.js';
import { invalid } from './errors.js';

export type KnowledgeRow = typeof knowledge.$inferSelect;

export const knowledgeStore = ownedStore(knowledge, 'knowledge', { direction: 'desc', cursorKey: (r) => [r.id] });

export interface KnowledgeInput {
  title: string;
  content?: string | undefined;
  embedding?: number[] | null | undefined;
  tags?: string[] | undefined;
  source?: string | null | undefined;
  organizationId?: string | null | undefined;
  projectId?: string | null | undefined;
}

export async function createKnowledge(db: Queryable, caller: Caller, input: KnowledgeInput, dimension: number): Promise<KnowledgeRow> {
  if (input.embedding) checkEmbedding(input.embedding, dimension, 'json.embedding');
  const owner = await ownerFor(db, caller, input.organizationId);
  if (input.projectId) await sameOwnerProject(db, caller, input.projectId, owner.organizationId);
  const rows = await db
    .insert(knowledge)
    .values({
      title: input.title,
      content: input.content ?? '',
      embedding: input.embedding ?? null,
      tags: input.tags ?? [],
      source: input.source ?? null,
      projectId: input.projectId ?? null,
      ...owner,
    })
    .returning();
  return rows[0] as KnowledgeRow;
}

export async function updateKnowledge(
  db: Queryable,
  caller: Caller,
  id: string,
  patch: Omit<Partial<KnowledgeInput>, 'organizationId'>,
  dimension: number,
): Promise<KnowledgeRow> {
  if (patch.embedding) checkEmbedding(patch.embedding, dimension, 'json.embedding');
  if (patch.projectId) {
    const current = await knowledgeStore.get(db, caller, id);
    await sameOwnerProject(db, caller, patch.projectId, current.organizationId);
  }
  return knowledgeStore.update(db, caller, id, patch);
}

/** A row may point only at a project with the same owner (so reach never differs between them). */
export async function sameOwnerProject(db: Queryable, caller: Caller, projectId: string, organizationId: string | null): Promise<void> {
  const project = await getProject(db, caller, projectId);
  if ((project.organizationId ?? null) !== organizationId) {
    throw invalid('json.project_id', 'invalid json.project_id: the project belongs to another owner than this row');
  }
}

export interface SearchFilters {
  organizationId?: string | undefined;
  projectId?: string | undefined;
  userId?: string | undefined;
  threadId?: string | undefined;
}

export async function searchKnowledge(
  database: Database,
  caller: Caller,
  embedding: number[],
  k: number,
  filters: SearchFilters,
  support: VectorSupport,
): Promise<Array<Omit<KnowledgeRow, 'embedding'> & { score: number }>> {
  checkEmbedding(embedding, support.dimension, 'json.embedding');
  const ranking = cosineRanking(sql`${knowledge.embedding}`, embedding, support);
  const conditions: Array<SQL | undefined> = [isNotNull(knowledge.embedding), inReach(knowledge, caller)];
  if (filters.organizationId) conditions.push(eq(knowledge.organizationId, filters.organizationId));
  if (filters.projectId) conditions.push(eq(knowledge.projectId, filters.projectId));
  if (filters.userId) conditions.push(eq(knowledge.userId, filters.userId));
  const { embedding: _embedding, ...columns } = getTableColumns(knowledge);
  const rows = await runVectorQuery(database, support, (db) =>
    db
      .select({ ...columns, score: sql<number>`${ranking.score}`.mapWith(Number) })
      .from(knowledge)
      .where(and(...conditions))
      .orderBy(ranking.orderBy, knowledge.id)
      .limit(k),
  );
  return rows;
}

