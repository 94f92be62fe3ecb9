/**
 * Chat threads (owned: the author's, or an organization's for its members), their messages, and one
 * embedding per message for vector search. Only the app's chat writes here: Nostr comments never
 * become messages.
 */
import { and, asc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { AppDatabase, Database, Queryable } from '../db/client.js';
import { messageEmbeddings, messages, threads } from '../db/schema/index.js';
import { invalid, notFound } from './errors.js';
import { ownedStore } from './owned.js';
import { keysetOrderBy, keysetWhere, pageSize, toPage, type KeysetOrder, type Page, type PageRequest } from './pagination.js';
import { getProject } from './projects.js';
import { inReach, requireMember, type Caller } from './scope.js';
import { definedOnly } from './users.js';
import { checkEmbedding, cosineRanking, runVectorQuery, type VectorSupport } from './vector.js';
import type { SearchFilters } from './knowledge.js';

export type ThreadRow = typeof threads.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type EmbeddingRow = typeof messageEmbeddings.$inferSelect;

/** Most recently updated first. */
export const threadStore = ownedStore(threads, 'thread', {
  column: threads.updatedAt,
  kind: 'date',
  direction: 'desc',
  cursorKey: (r) => [r.updatedAt.toISOString(), r.id],
});

export interface ThreadInput {
  chatId?: string | null | undefined;
  organizationId?: string | null | undefined;
  projectId?: string | null | undefined;
  agentSlug?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
  isArchived?: boolean | undefined;
  isShared?: boolean | undefined;
}

/** A thread in a project takes the project's owner: an organization project's threads are the organization's. */
export async function createThread(db: Queryable, caller: Caller, input: ThreadInput): Promise<ThreadRow> {
  let organizationId = input.organizationId ?? null;
  if (input.projectId) {
    const project = await getProject(db, caller, input.projectId);
    if (input.organizationId && input.organizationId !== project.organizationId) {
      throw invalid('json.organization_id', 'invalid json.organization_id: the project belongs to another owner');
    }
    organizationId = project.organizationId;
  } else if (organizationId) {
    await requireMember(db, organizationId, caller);
  }
  const rows = await db
    .insert(threads)
    .values({ ...definedOnly(input), userId: caller.userId, organizationId })
    .returning();
  return rows[0] as ThreadRow;
}

const messageOrder: KeysetOrder = { column: messages.createdAt, kind: 'date', id: messages.id, direction: 'asc' };

/** Messages of threads the caller reaches. */
function messageInReach(caller: Caller): SQL {
  return sql`${messages.threadId} IN (SELECT ${threads.id} FROM ${threads} WHERE ${inReach(threads, caller)})`;
}

/** A thread's messages, oldest first. */
export async function listMessages(db: Queryable, caller: Caller, threadId: string, request: PageRequest): Promise<Page<MessageRow>> {
  await threadStore.get(db, caller, threadId);
  const limit = pageSize(request);
  const rows = await db
    .select()
    .from(messages)
    .where(and(eq(messages.threadId, threadId), keysetWhere(messageOrder, request.cursor)))
    .orderBy(...keysetOrderBy(messageOrder))
    .limit(limit + 1);
  return toPage(rows, limit, (r) => [r.createdAt.toISOString(), r.id]);
}

export interface MessageInput {
  role: 'user' | 'assistant' | 'system' | 'tool';
  content?: string | undefined;
  toolInvocations?: unknown;
  partsJson?: unknown;
  annotationsJson?: unknown;
  finishReason?: string | null | undefined;
  promptTokens?: number | null | undefined;
  completionTokens?: number | null | undefined;
  totalTokens?: number | null | undefined;
  costUsd?: number | null | undefined;
}

/** Appends a message (user_id: the caller) and marks the thread updated. */
export async function createMessage(database: AppDatabase, caller: Caller, threadId: string, input: MessageInput): Promise<MessageRow> {
  return database.transaction(async (tx) => {
    await threadStore.get(tx, caller, threadId);
    const rows = await tx
      .insert(messages)
      .values({ ...definedOnly(input), role: input.role, threadId, userId: caller.userId })
      .returning();
    await tx.update(threads).set({ updatedAt: new Date() }).where(eq(threads.id, threadId));
    return rows[0] as MessageRow;
  });
}

export async function getMessage(db: Queryable, caller: Caller, id: string): Promise<MessageRow> {
  const rows = await db.select().from(messages).where(and(eq(messages.id, id), messageInReach(caller)));
  if (!rows[0]) throw notFound('message');
  return rows[0];
}

export async function updateMessage(db: Queryable, caller: Caller, id: string, patch: Partial<MessageInput>): Promise<MessageRow> {
  const values = definedOnly(patch);
  if (Object.keys(values).length === 0) return getMessage(db, caller, id);
  const rows = await db.update(messages).set(values).where(and(eq(messages.id, id), messageInReach(caller))).returning();
  if (!rows[0]) throw notFound('message');
  return rows[0];
}

export async function deleteMessage(db: Queryable, caller: Caller, id: string): Promise<void> {
  const rows = await db.delete(messages).where(and(eq(messages.id, id), messageInReach(caller))).returning({ id: messages.id });
  if (!rows[0]) throw notFound('message');
}

/** Sets (or replaces) a message's embedding; owner fields come from its thread. */
export async function putMessageEmbedding(
  db: Queryable,
  caller: Caller,
  messageId: string,
  embedding: number[],
  dimension: number,
): Promise<EmbeddingRow> {
  checkEmbedding(embedding, dimension, 'json.embedding');
  const message = await getMessage(db, caller, messageId);
  const thread = await threadStore.get(db, caller, message.threadId);
  const values = {
    messageId,
    embedding,
    threadId: thread.id,
    organizationId: thread.organizationId,
    userId: message.userId ?? thread.userId,
  };
  const rows = await db
    .insert(messageEmbeddings)
    .values(values)
    .onConflictDoUpdate({ target: messageEmbeddings.messageId, set: { embedding, createdAt: new Date() } })
    .returning();
  return rows[0] as EmbeddingRow;
}

export async function getMessageEmbedding(db: Queryable, caller: Caller, messageId: string): Promise<EmbeddingRow> {
  await getMessage(db, caller, messageId);
  const rows = await db.select().from(messageEmbeddings).where(eq(messageEmbeddings.messageId, messageId));
  if (!rows[0]) throw notFound('embedding');
  return rows[0];
}

export async function deleteMessageEmbedding(db: Queryable, caller: Caller, messageId: string): Promise<void> {
  await getMessage(db, caller, messageId);
  const rows = await db.delete(messageEmbeddings).where(eq(messageEmbeddings.messageId, messageId)).returning({ id: messageEmbeddings.id });
  if (!rows[0]) throw notFound('embedding');
}

/** Top-k messages by cosine similarity among the threads the caller reaches, narrowed by the filters. */
export async function searchMessages(
  database: Database,
  caller: Caller,
  embedding: number[],
  k: number,
  filters: SearchFilters,
  support: VectorSupport,
): Promise<Array<MessageRow & { score: number }>> {
  checkEmbedding(embedding, support.dimension, 'json.embedding');
  const ranking = cosineRanking(sql`${messageEmbeddings.embedding}`, embedding, support);
  // Reach mirrors the thread's: the embedding carries its thread's organization, and for a personal
  // thread its owner (every message of a personal thread is its owner's or the assistant's).
  const conditions: Array<SQL | undefined> = [
    sql`${messageEmbeddings.threadId} IN (SELECT ${threads.id} FROM ${threads} WHERE ${inReach(threads, caller)})`,
  ];
  if (filters.organizationId) conditions.push(eq(messageEmbeddings.organizationId, filters.organizationId));
  if (filters.userId) conditions.push(eq(messageEmbeddings.userId, filters.userId));
  if (filters.threadId) conditions.push(eq(messageEmbeddings.threadId, filters.threadId));
  if (filters.projectId) {
    conditions.push(sql`${messageEmbeddings.threadId} IN (SELECT ${threads.id} FROM ${threads} WHERE ${threads.projectId} = ${filters.projectId})`);
  }
  return runVectorQuery(database, support, (db) =>
    db
      .select({ ...getTableColumns(messages), score: sql<number>`${ranking.score}`.mapWith(Number) })
      .from(messageEmbeddings)
      .innerJoin(messages, eq(messages.id, messageEmbeddings.messageId))
      .where(and(...conditions))
      .orderBy(ranking.orderBy, asc(messageEmbeddings.id))
      .limit(k),
  );
}

/** Updates a thread; a new project must have the thread's owner. */
export async function updateThread(
  db: Queryable,
  caller: Caller,
  id: string,
  patch: Omit<Partial<ThreadInput>, 'organizationId'>,
): Promise<ThreadRow> {
  if (patch.projectId) {
    const thread = await threadStore.get(db, caller, id);
    const project = await getProject(db, caller, patch.projectId);
    if ((project.organizationId ?? null) !== (thread.organizationId ?? null)) {
      throw invalid('json.project_id', 'invalid json.project_id: the project belongs to another owner than this thread');
    }
  }
  return threadStore.update(db, caller, id, patch);
}
