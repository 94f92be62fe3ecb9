/** Issues and their linked threads. */
import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { ApiApp, AppDependencies } from '../../app.js';
import { issues } from '../../../db/schema/index.js';
import { createIssue, issueStore, linkIssueThread, listIssueThreads, unlinkIssueThread, updateIssue } from '../../../control/issues.js';
import { endpoint, fromApi, nullableText, ownedFields, pageOf, pageQuery, toApi, toApiPage, uuidParam } from './common.js';
import { calendarDate } from '../../limits.js';

const IssueSchema = z
  .object({
    ...ownedFields,
    identifier: z.string().nullable(),
    title: z.string(),
    description: z.string().nullable(),
    status_id: z.string().nullable(),
    priority_id: z.string().nullable(),
    assignee_id: z.string().nullable(),
    label_ids: z.array(z.string()),
    rank: z.string().nullable(),
    due_date: z.string().nullable().openapi({ format: 'date' }),
    project_id: z.string().uuid().nullable(),
  })
  .openapi('Issue');

const issueFields = {
  identifier: nullableText(100),
  description: nullableText(),
  status_id: nullableText(100),
  priority_id: nullableText(100),
  assignee_id: nullableText(256),
  label_ids: z.array(z.string().max(100)).max(100).optional(),
  rank: nullableText(100),
  due_date: calendarDate().nullable().optional(),
  project_id: uuidParam.nullable().optional(),
};

const idParams = z.object({ id: uuidParam });

export function issueRoutes(router: ApiApp, deps: AppDependencies): void {
  const db = deps.database.db;
  const tag = 'issues';

  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/issues',
      tag,
      summary: 'Issues in reach, newest first',
      query: z.object({ ...pageQuery, organization_id: uuidParam.optional(), project_id: uuidParam.optional() }),
      status: 200,
      response: pageOf(IssueSchema, 'IssuePage'),
    },
    async ({ caller, query }) =>
      toApiPage(
        await issueStore.list(db, caller, query, [
          query.organization_id ? eq(issues.organizationId, query.organization_id) : undefined,
          query.project_id ? eq(issues.projectId, query.project_id) : undefined,
        ]),
      ),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/issues',
      tag,
      summary: 'Create an issue',
      body: z.object({ title: z.string().min(1).max(500), organization_id: uuidParam.nullable().optional(), ...issueFields }).strict(),
      status: 201,
      response: IssueSchema,
    },
    async ({ caller, body }) => toApi(await createIssue(db, caller, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/issues/{id}', tag, summary: 'One issue', params: idParams, status: 200, response: IssueSchema },
    async ({ caller, params }) => toApi(await issueStore.get(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/issues/{id}',
      tag,
      summary: 'Update an issue',
      params: idParams,
      body: z.object({ title: z.string().min(1).max(500).optional(), ...issueFields }).strict(),
      status: 200,
      response: IssueSchema,
    },
    async ({ caller, params, body }) => toApi(await updateIssue(db, caller, params.id, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/issues/{id}', tag, summary: 'Delete an issue', params: idParams, status: 204 },
    async ({ caller, params }) => issueStore.remove(db, caller, params.id),
  );
  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/issues/{id}/threads',
      tag,
      summary: 'Threads linked to an issue',
      params: idParams,
      query: z.object(pageQuery),
      status: 200,
      response: z.object({ items: z.array(z.unknown()), next_cursor: z.string().nullable() }),
    },
    async ({ caller, params, query }) => toApiPage(await listIssueThreads(db, caller, params.id, query)),
  );
  const linkParams = z.object({ id: uuidParam, thread_id: uuidParam });
  endpoint(
    router,
    deps,
    { method: 'put', path: '/issues/{id}/threads/{thread_id}', tag, summary: 'Link a thread to an issue (both in reach)', params: linkParams, status: 204 },
    async ({ caller, params }) => linkIssueThread(db, caller, params.id, params.thread_id),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/issues/{id}/threads/{thread_id}', tag, summary: 'Unlink a thread from an issue', params: linkParams, status: 204 },
    async ({ caller, params }) => unlinkIssueThread(db, caller, params.id, params.thread_id),
  );
}
