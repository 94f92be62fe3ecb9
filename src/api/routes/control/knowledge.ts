/** Knowledge entries and knowledge vector search. */
import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { ApiApp, AppDependencies } from '../../app.js';
import { knowledge } from '../../../db/schema/index.js';
import { createKnowledge, knowledgeStore, searchKnowledge, updateKnowledge, type KnowledgeRow } from '../../../control/knowledge.js';
import { vectorSupport } from '../../../control/vector.js';
import { embeddingSchema, endpoint, fromApi, nullableText, ownedFields, pageOf, pageQuery, searchBody, toApi, toApiPage, uuidParam } from './common.js';

const KnowledgeSchema = z
  .object({
    ...ownedFields,
    title: z.string(),
    content: z.string(),
    has_embedding: z.boolean().openapi({ description: 'the embedding itself is not returned' }),
    tags: z.array(z.string()),
    source: z.string().nullable(),
    project_id: z.string().uuid().nullable(),
  })
  .openapi('Knowledge');

const knowledgeFields = {
  content: z.string().max(1_000_000).optional(),
  embedding: embeddingSchema.nullable().optional(),
  tags: z.array(z.string().max(100)).max(100).optional(),
  source: nullableText(2000),
  project_id: uuidParam.nullable().optional(),
};

/** Embeddings are long: responses say whether one is set instead of repeating it. */
function shape(row: Partial<KnowledgeRow> & object): Record<string, unknown> {
  const out = toApi(row, ['embedding']);
  if ('embedding' in row) out.has_embedding = row.embedding != null;
  return out;
}

const idParams = z.object({ id: uuidParam });

export function knowledgeRoutes(router: ApiApp, deps: AppDependencies): void {
  const db = deps.database.db;
  const dimension = deps.config.vectorDimension;
  const tag = 'knowledge';

  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/knowledge',
      tag,
      summary: 'Knowledge in reach, newest first',
      query: z.object({ ...pageQuery, organization_id: uuidParam.optional(), project_id: uuidParam.optional() }),
      status: 200,
      response: pageOf(KnowledgeSchema, 'KnowledgePage'),
    },
    async ({ caller, query }) =>
      toApiPage(
        await knowledgeStore.list(db, caller, query, [
          query.organization_id ? eq(knowledge.organizationId, query.organization_id) : undefined,
          query.project_id ? eq(knowledge.projectId, query.project_id) : undefined,
        ]),
        shape,
      ),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/knowledge',
      tag,
      summary: 'Create a knowledge entry (embedding optional, VECTOR_DIMENSION numbers)',
      body: z.object({ title: z.string().min(1).max(500), organization_id: uuidParam.nullable().optional(), ...knowledgeFields }).strict(),
      status: 201,
      response: KnowledgeSchema,
    },
    async ({ caller, body }) => shape(await createKnowledge(db, caller, fromApi(body), dimension)),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/knowledge/{id}', tag, summary: 'One knowledge entry', params: idParams, status: 200, response: KnowledgeSchema },
    async ({ caller, params }) => shape(await knowledgeStore.get(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/knowledge/{id}',
      tag,
      summary: 'Update a knowledge entry',
      params: idParams,
      body: z.object({ title: z.string().min(1).max(500).optional(), ...knowledgeFields }).strict(),
      status: 200,
      response: KnowledgeSchema,
    },
    async ({ caller, params, body }) => shape(await updateKnowledge(db, caller, params.id, fromApi(body), dimension)),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/knowledge/{id}', tag, summary: 'Delete a knowledge entry', params: idParams, status: 204 },
    async ({ caller, params }) => knowledgeStore.remove(db, caller, params.id),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/knowledge/search',
      tag,
      summary: 'Top-k knowledge entries by cosine similarity, among entries in reach',
      body: searchBody.strict(),
      status: 200,
      response: z
        .object({ items: z.array(KnowledgeSchema.omit({ has_embedding: true }).extend({ score: z.number() })), mode: z.enum(['pgvector', 'exact']) })
        .openapi('KnowledgeSearch'),
    },
    async ({ caller, body }) => {
      const support = await vectorSupport(deps.database, dimension);
      const filters = { organizationId: body.organization_id, projectId: body.project_id, userId: body.user_id };
      const rows = await searchKnowledge(deps.database, caller, body.embedding, body.k, filters, support);
      return { items: rows.map((r) => toApi(r)), mode: support.mode };
    },
  );
}
