/** Agents: readable by every authenticated user, writable by admin tokens. */
import { z } from '@hono/zod-openapi';
import type { ApiApp, AppDependencies } from '../../app.js';
import { createAgent, deleteAgent, getAgent, listAgents, updateAgent } from '../../../control/agents.js';
import { endpoint, fromApi, nullableText, pageOf, pageQuery, toApi, toApiPage } from './common.js';
import { int4 } from '../../limits.js';

const AgentSchema = z
  .object({
    id: z.string().uuid(),
    slug: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    system_prompt: z.string().nullable(),
    model_id: z.string().nullable(),
    sort_order: z.number().int(),
    is_default: z.boolean(),
    flags: z.record(z.string(), z.unknown()),
    agent_type: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Agent');

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, 'expected a slug: lowercase letters, digits, - and _, up to 100')
  .openapi({ example: 'researcher' });

const agentFields = {
  description: nullableText(10_000),
  system_prompt: nullableText(),
  model_id: nullableText(200),
  sort_order: int4().optional(),
  is_default: z.boolean().optional(),
  flags: z.record(z.string(), z.unknown()).optional(),
  agent_type: nullableText(100),
};

const slugParams = z.object({ slug });

export function agentRoutes(router: ApiApp, deps: AppDependencies): void {
  const db = deps.database.db;
  const tag = 'agents';

  endpoint(
    router,
    deps,
    { method: 'get', path: '/agents', tag, summary: 'Agents in display order', query: z.object(pageQuery), status: 200, response: pageOf(AgentSchema, 'AgentPage') },
    async ({ query }) => toApiPage(await listAgents(db, query)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/agents',
      tag,
      summary: 'Create an agent (admin)',
      body: z.object({ slug, name: z.string().min(1).max(200), ...agentFields }).strict(),
      status: 201,
      response: AgentSchema,
    },
    async ({ caller, body }) => toApi(await createAgent(db, caller, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/agents/{slug}', tag, summary: 'One agent', params: slugParams, status: 200, response: AgentSchema },
    async ({ params }) => toApi(await getAgent(db, params.slug)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/agents/{slug}',
      tag,
      summary: 'Update an agent (admin)',
      params: slugParams,
      body: z.object({ name: z.string().min(1).max(200).optional(), ...agentFields }).strict(),
      status: 200,
      response: AgentSchema,
    },
    async ({ caller, params, body }) => toApi(await updateAgent(db, caller, params.slug, fromApi(body))),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/agents/{slug}', tag, summary: 'Delete an agent (admin)', params: slugParams, status: 204 },
    async ({ caller, params }) => deleteAgent(db, caller, params.slug),
  );
}
