/** Organizations and membership: members read, owners manage. */
import { z } from '@hono/zod-openapi';
import type { ApiApp, AppDependencies } from '../../app.js';
import {
  addMember,
  createOrganization,
  deleteOrganization,
  getOrganization,
  listMembers,
  listOrganizations,
  removeMember,
  updateMemberRole,
  updateOrganization,
} from '../../../control/organizations.js';
import { endpoint, nullableText, pageOf, pageQuery, toApi, toApiPage, uuidParam } from './common.js';

const role = z.enum(['owner', 'member']);

const OrganizationSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    logo: z.string().nullable(),
    plan: z.enum(['free', 'pro', 'enterprise']),
    credits: z.number().int(),
    owner_id: z.string().nullable().openapi({ description: 'the creator' }),
    role: role.openapi({ description: 'the caller’s role' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Organization');

const MemberSchema = z
  .object({ id: z.string().uuid(), organization_id: z.string().uuid(), user_id: z.string(), role, joined_at: z.string() })
  .openapi('OrganizationMember');

const orgParams = z.object({ id: uuidParam });
const memberParams = z.object({ id: uuidParam, user_id: z.string().min(1).max(256) });

export function organizationRoutes(router: ApiApp, deps: AppDependencies): void {
  const database = deps.database;
  const db = database.db;
  const tag = 'organizations';

  endpoint(
    router,
    deps,
    { method: 'get', path: '/organizations', tag, summary: 'Organizations the caller belongs to', query: z.object(pageQuery), status: 200, response: pageOf(OrganizationSchema, 'OrganizationPage') },
    async ({ caller, query }) => toApiPage(await listOrganizations(db, caller, query)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/organizations',
      tag,
      summary: 'Create an organization; the caller becomes its owner',
      body: z.object({ name: z.string().min(1).max(200), logo: nullableText(2000) }).strict(),
      status: 201,
      response: OrganizationSchema,
    },
    async ({ caller, body }) => toApi(await createOrganization(db, caller, body)),
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/organizations/{id}', tag, summary: 'One organization (members)', params: orgParams, status: 200, response: OrganizationSchema },
    async ({ caller, params }) => toApi(await getOrganization(db, caller, params.id)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/organizations/{id}',
      tag,
      summary: 'Rename or change the logo (owners)',
      params: orgParams,
      body: z.object({ name: z.string().min(1).max(200).optional(), logo: nullableText(2000) }).strict(),
      status: 200,
      response: OrganizationSchema,
    },
    async ({ caller, params, body }) => toApi(await updateOrganization(db, caller, params.id, body)),
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/organizations/{id}', tag, summary: 'Delete an organization and all its rows (owners)', params: orgParams, status: 204 },
    async ({ caller, params }) => deleteOrganization(db, caller, params.id),
  );

  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/organizations/{id}/members',
      tag,
      summary: 'Members (members)',
      params: orgParams,
      query: z.object(pageQuery),
      status: 200,
      response: pageOf(MemberSchema, 'OrganizationMemberPage'),
    },
    async ({ caller, params, query }) => toApiPage(await listMembers(db, caller, params.id, query)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/organizations/{id}/members',
      tag,
      summary: 'Add a member by external user id (owners); the user is created if new',
      params: orgParams,
      body: z.object({ user_id: z.string().min(1).max(256), role: role.default('member') }).strict(),
      status: 201,
      response: MemberSchema,
    },
    async ({ caller, params, body }) => toApi(await addMember(database.db, caller, params.id, { userId: body.user_id, role: body.role })),
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/organizations/{id}/members/{user_id}',
      tag,
      summary: 'Change a member’s role (owners); the last owner cannot step down',
      params: memberParams,
      body: z.object({ role }).strict(),
      status: 200,
      response: MemberSchema,
    },
    async ({ caller, params, body }) => toApi(await updateMemberRole(database.db, caller, params.id, params.user_id, body.role)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'delete',
      path: '/organizations/{id}/members/{user_id}',
      tag,
      summary: 'Remove a member (owners), or leave (a member removing themself); the last owner stays',
      params: memberParams,
      status: 204,
    },
    async ({ caller, params }) => removeMember(database.db, caller, params.id, params.user_id),
  );
}
