/** Projects and their linked repositories. */
import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { ApiApp, AppDependencies } from '../../app.js';
import { projects } from '../../../db/schema/index.js';
import { createProject, getRepo, linkRepo, listProjectRepos, projectStore, unlinkRepo, updateProject, updateRepo } from '../../../control/projects.js';
import { endpoint, fromApi, nullableText, ownedFields, pageOf, pageQuery, toApi, toApiPage, uuidParam } from './common.js';

const ProjectSchema = z
  .object({
    ...ownedFields,
    name: z.string(),
    description: z.string().nullable(),
    system_prompt: z.string().nullable(),
    default_model: z.string().nullable(),
    default_tools: z.array(z.string()).nullable(),
    autopilot_spec: z.string().nullable(),
    autopilot_plan: z.unknown(),
    autopilot_plan_updated_at: z.string().nullable(),
    is_archived: z.boolean(),
  })
  .openapi('Project');

const RepoSchema = z
  .object({
    id: z.string().uuid(),
    user_id: z.string().nullable().openapi({ description: 'the tenant: the owning user of a personal project' }),
    organization_id: z.string().uuid().nullable().openapi({ description: 'the tenant: the owning organization' }),
    provider: z.string(),
    owner: z.string(),
    name: z.string(),
    default_branch: z.string().nullable(),
    url: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Repo');

const projectFields = {
  description: nullableText(10_000),
  system_prompt: nullableText(),
  default_model: nullableText(200),
  default_tools: z.array(z.string().max(200)).max(500).nullable().optional(),
  autopilot_spec: nullableText(),
  autopilot_plan: z.unknown().optional(),
  is_archived: z.boolean().optional(),
};

const idParams = z.object({ id: uuidParam });

export function projectRoutes(router: ApiApp, deps: AppDependencies): void {
  const db = deps.database.db;
  const tag = 'projects';

  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/projects',
      tag,
      summary: 'Projects in reach, most recently updated first',
      query: z.object({ ...pageQuery, organization_id: uuidParam.optional() }),
      status: 200,
      response: pageOf(ProjectSchema, 'ProjectPage'),
    },
    async ({ caller, query }) =>
      toApiPage(await projectStore.list(db, caller, query, [query.organization_id ? eq(projects.organizationId, query.organization_id) : undefined])),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/projects',
      tag,
      summary: 'Create a project: the caller’s, or an organization’s they belong to',
      body: z.object({ name: z.string().min(1).max(200), organization_id: uuidParam.nullable().optional(), ...projectFields }).strict(),
      status: 201,
      response: ProjectSchema,
    },
    async ({ caller, body }) => toApi(await createProject(db, caller, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/projects/{id}', tag, summary: 'One project', params: idParams, status: 200, response: ProjectSchema },
    async ({ caller, params }) => toApi(await projectStore.get(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/projects/{id}',
      tag,
      summary: 'Update a project',
      params: idParams,
      body: z.object({ name: z.string().min(1).max(200).optional(), ...projectFields }).strict(),
      status: 200,
      response: ProjectSchema,
    },
    async ({ caller, params, body }) => toApi(await updateProject(db, caller, params.id, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/projects/{id}', tag, summary: 'Delete a project', params: idParams, status: 204 },
    async ({ caller, params }) => projectStore.remove(db, caller, params.id),
  );

  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/projects/{id}/repos',
      tag,
      summary: 'Repositories linked to a project',
      params: idParams,
      query: z.object(pageQuery),
      status: 200,
      response: pageOf(RepoSchema, 'RepoPage'),
    },
    async ({ caller, params, query }) => toApiPage(await listProjectRepos(db, caller, params.id, query)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/projects/{id}/repos',
      tag,
      summary: 'Link a repository (the tenant’s row is created on first sight, unique per tenant by provider/owner/name)',
      params: idParams,
      body: z
        .object({
          provider: z.string().min(1).max(50).optional(),
          owner: z.string().min(1).max(200),
          name: z.string().min(1).max(200),
          default_branch: nullableText(200),
          url: nullableText(2000),
        })
        .strict(),
      status: 201,
      response: RepoSchema,
    },
    async ({ caller, params, body }) => toApi(await linkRepo(db, caller, params.id, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    {
      method: 'delete',
      path: '/projects/{id}/repos/{repo_id}',
      tag,
      summary: 'Unlink a repository (deleted when no project links it any more)',
      params: z.object({ id: uuidParam, repo_id: uuidParam }),
      status: 204,
    },
    async ({ caller, params }) => unlinkRepo(db, caller, params.id, params.repo_id),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/repos/{id}', tag, summary: 'A repository of the caller or of one of their organizations', params: idParams, status: 200, response: RepoSchema },
    async ({ caller, params }) => toApi(await getRepo(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/repos/{id}',
      tag,
      summary: 'Update a repository’s default branch or URL',
      params: idParams,
      body: z.object({ default_branch: nullableText(200), url: nullableText(2000) }).strict(),
      status: 200,
      response: RepoSchema,
    },
    async ({ caller, params, body }) => toApi(await updateRepo(db, caller, params.id, fromApi(body))),
  );
}
