/** Chat threads, their messages, message embeddings and message vector search. */
import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { ApiApp, AppDependencies } from '../../app.js';
import { threads } from '../../../db/schema/index.js';
import {
  createMessage,
  createThread,
  deleteMessage,
  deleteMessageEmbedding,
  getMessage,
  getMessageEmbedding,
  listMessages,
  putMessageEmbedding,
  searchMessages,
  threadStore,
  updateMessage,
  updateThread,
} from '../../../control/threads.js';
import { vectorSupport } from '../../../control/vector.js';
import { embeddingSchema, endpoint, fromApi, nullableText, pageOf, pageQuery, searchBody, toApi, toApiPage, uuidParam } from './common.js';
import { int4 } from '../../limits.js';

const ThreadSchema = z
  .object({
    id: z.string().uuid(),
    chat_id: z.string().nullable(),
    user_id: z.string().openapi({ description: 'the author' }),
    organization_id: z.string().uuid().nullable(),
    project_id: z.string().uuid().nullable(),
    agent_slug: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    is_archived: z.boolean(),
    is_shared: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Thread');

const messageRole = z.enum(['user', 'assistant', 'system', 'tool']);
const MessageSchema = z
  .object({
    id: z.string().uuid(),
    thread_id: z.string().uuid(),
    user_id: z.string().nullable(),
    role: messageRole,
    content: z.string(),
    tool_invocations: z.unknown(),
    parts_json: z.unknown(),
    annotations_json: z.unknown(),
    finish_reason: z.string().nullable(),
    prompt_tokens: z.number().int().nullable(),
    completion_tokens: z.number().int().nullable(),
    total_tokens: z.number().int().nullable(),
    cost_usd: z.number().nullable(),
    created_at: z.string(),
  })
  .openapi('Message');

const EmbeddingSchema = z
  .object({
    id: z.string().uuid(),
    message_id: z.string().uuid(),
    embedding: z.array(z.number()),
    thread_id: z.string().uuid(),
    organization_id: z.string().uuid().nullable(),
    user_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('MessageEmbedding');

const threadFields = {
  chat_id: nullableText(256),
  project_id: uuidParam.nullable().optional(),
  agent_slug: nullableText(200),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  is_archived: z.boolean().optional(),
  is_shared: z.boolean().optional(),
};

const count = int4().min(0).nullable().optional();
const messageFields = {
  content: z.string().max(1_000_000).optional(),
  tool_invocations: z.unknown().optional(),
  parts_json: z.unknown().optional(),
  annotations_json: z.unknown().optional(),
  finish_reason: nullableText(100),
  prompt_tokens: count,
  completion_tokens: count,
  total_tokens: count,
  cost_usd: z.number().min(0).nullable().optional(),
};

const idParams = z.object({ id: uuidParam });

export function threadRoutes(router: ApiApp, deps: AppDependencies): void {
  const db = deps.database.db;
  const tag = 'threads';

  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/threads',
      tag,
      summary: 'Threads in reach, most recently updated first',
      query: z.object({ ...pageQuery, organization_id: uuidParam.optional(), project_id: uuidParam.optional() }),
      status: 200,
      response: pageOf(ThreadSchema, 'ThreadPage'),
    },
    async ({ caller, query }) =>
      toApiPage(
        await threadStore.list(db, caller, query, [
          query.organization_id ? eq(threads.organizationId, query.organization_id) : undefined,
          query.project_id ? eq(threads.projectId, query.project_id) : undefined,
        ]),
      ),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/threads',
      tag,
      summary: 'Create a thread (in a project, it takes the project’s owner)',
      body: z.object({ organization_id: uuidParam.nullable().optional(), ...threadFields }).strict(),
      status: 201,
      response: ThreadSchema,
    },
    async ({ caller, body }) => toApi(await createThread(db, caller, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/threads/{id}', tag, summary: 'One thread', params: idParams, status: 200, response: ThreadSchema },
    async ({ caller, params }) => toApi(await threadStore.get(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    { method: 'patch', path: '/threads/{id}', tag, summary: 'Update a thread', params: idParams, body: z.object(threadFields).strict(), status: 200, response: ThreadSchema },
    async ({ caller, params, body }) => toApi(await updateThread(db, caller, params.id, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/threads/{id}', tag, summary: 'Delete a thread and its messages', params: idParams, status: 204 },
    async ({ caller, params }) => threadStore.remove(db, caller, params.id),
  );

  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/threads/{id}/messages',
      tag,
      summary: 'A thread’s messages, oldest first',
      params: idParams,
      query: z.object(pageQuery),
      status: 200,
      response: pageOf(MessageSchema, 'MessagePage'),
    },
    async ({ caller, params, query }) => toApiPage(await listMessages(db, caller, params.id, query)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/threads/{id}/messages',
      tag,
      summary: 'Append a message (user_id: the caller)',
      params: idParams,
      body: z.object({ role: messageRole, ...messageFields }).strict(),
      status: 201,
      response: MessageSchema,
    },
    async ({ caller, params, body }) => toApi(await createMessage(db, caller, params.id, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/messages/{id}', tag, summary: 'One message', params: idParams, status: 200, response: MessageSchema },
    async ({ caller, params }) => toApi(await getMessage(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    { method: 'patch', path: '/messages/{id}', tag, summary: 'Update a message', params: idParams, body: z.object(messageFields).strict(), status: 200, response: MessageSchema },
    async ({ caller, params, body }) => toApi(await updateMessage(db, caller, params.id, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/messages/{id}', tag, summary: 'Delete a message', params: idParams, status: 204 },
    async ({ caller, params }) => deleteMessage(db, caller, params.id),
  );

  endpoint(
    router,
    deps,
    { method: 'get', path: '/messages/{id}/embedding', tag, summary: 'A message’s embedding', params: idParams, status: 200, response: EmbeddingSchema },
    async ({ caller, params }) => toApi(await getMessageEmbedding(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'put',
      path: '/messages/{id}/embedding',
      tag,
      summary: 'Set or replace a message’s embedding (VECTOR_DIMENSION numbers)',
      params: idParams,
      body: z.object({ embedding: embeddingSchema }).strict(),
      status: 200,
      response: EmbeddingSchema,
    },
    async ({ caller, params, body }) => toApi(await putMessageEmbedding(db, caller, params.id, body.embedding, deps.config.vectorDimension)),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/messages/{id}/embedding', tag, summary: 'Remove a message’s embedding', params: idParams, status: 204 },
    async ({ caller, params }) => deleteMessageEmbedding(db, caller, params.id),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/messages/search',
      tag,
      summary: 'Top-k messages by cosine similarity, among threads in reach',
      body: searchBody.extend({ thread_id: uuidParam.optional() }).strict(),
      status: 200,
      response: z.object({ items: z.array(MessageSchema.extend({ score: z.number() })), mode: z.enum(['pgvector', 'exact']) }).openapi('MessageSearch'),
    },
    async ({ caller, body }) => {
      const support = await vectorSupport(deps.database, deps.config.vectorDimension);
      const filters = { organizationId: body.organization_id, projectId: body.project_id, userId: body.user_id, threadId: body.thread_id };
      const rows = await searchMessages(deps.database, caller, body.embedding, body.k, filters, support);
      return { items: rows.map((r) => toApi(r)), mode: support.mode };
    },
  );
}
