/** Named counters with an atomic increment. */
import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { ApiApp, AppDependencies } from '../../app.js';
import { numbers } from '../../../db/schema/index.js';
import { createNumber, incrementNumber, numberStore } from '../../../control/numbers.js';
import { endpoint, fromApi, ownedFields, pageOf, pageQuery, toApi, toApiPage, uuidParam } from './common.js';
import { int8 } from '../../limits.js';

const NumberSchema = z.object({ ...ownedFields, name: z.string(), value: z.number().int() }).openapi('Number');
const value = int8();
const idParams = z.object({ id: uuidParam });

export function numberRoutes(router: ApiApp, deps: AppDependencies): void {
  const db = deps.database.db;
  const tag = 'numbers';

  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/numbers',
      tag,
      summary: 'Counters in reach',
      query: z.object({ ...pageQuery, organization_id: uuidParam.optional() }),
      status: 200,
      response: pageOf(NumberSchema, 'NumberPage'),
    },
    async ({ caller, query }) =>
      toApiPage(await numberStore.list(db, caller, query, [query.organization_id ? eq(numbers.organizationId, query.organization_id) : undefined])),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/numbers',
      tag,
      summary: 'Create a counter (name unique per owner)',
      body: z.object({ name: z.string().min(1).max(200), value: value.optional(), organization_id: uuidParam.nullable().optional() }).strict(),
      status: 201,
      response: NumberSchema,
    },
    async ({ caller, body }) => toApi(await createNumber(db, caller, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/numbers/{id}', tag, summary: 'One counter', params: idParams, status: 200, response: NumberSchema },
    async ({ caller, params }) => toApi(await numberStore.get(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/numbers/{id}',
      tag,
      summary: 'Set a counter’s value or rename it',
      params: idParams,
      body: z.object({ name: z.string().min(1).max(200).optional(), value: value.optional() }).strict(),
      status: 200,
      response: NumberSchema,
    },
    async ({ caller, params, body }) => toApi(await numberStore.update(db, caller, params.id, body)),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/numbers/{id}', tag, summary: 'Delete a counter', params: idParams, status: 204 },
    async ({ caller, params }) => numberStore.remove(db, caller, params.id),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/numbers/{id}/increment',
      tag,
      summary: 'Add to a counter atomically and return the new value',
      params: idParams,
      body: z.object({ by: value.default(1) }).strict(),
      status: 200,
      response: NumberSchema,
    },
    async ({ caller, params, body }) => toApi(await incrementNumber(db, caller, params.id, body.by)),
  );
}
