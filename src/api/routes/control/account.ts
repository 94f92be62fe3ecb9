/** The caller's own user row and tokens; admin-only user management and token minting. */
import { z } from '@hono/zod-openapi';
import type { ApiApp, AppDependencies } from '../../app.js';
import { forbidden } from '../../../control/errors.js';
import { updateOrganizationBilling } from '../../../control/organizations.js';
import { createToken, listTokens, revokeToken } from '../../../control/tokens.js';
import { deleteUser, ensureUser, getUser, listUsers, updateUser } from '../../../control/users.js';
import type { Caller } from '../../auth.js';
import { endpoint, fromApi, nullableText, pageOf, pageQuery, toApi, toApiPage, uuidParam } from './common.js';
import { int8, timestamp } from '../../limits.js';

const plan = z.enum(['free', 'pro', 'enterprise']);

const UserSchema = z
  .object({
    id: z.string().uuid(),
    user_id: z.string().openapi({ description: 'the external auth id' }),
    name: z.string().nullable(),
    username: z.string().nullable(),
    email: z.string().nullable(),
    image: z.string().nullable(),
    credits: z.number().int(),
    plan,
    referrer_id: z.string().nullable(),
    stripe_customer_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('User', { description: 'GitHub credentials are never returned.' });

const TokenSchema = z
  .object({
    id: z.string().uuid(),
    user_id: z.string(),
    token_prefix: z.string().openapi({ description: 'the first characters of the token, to recognise it' }),
    name: z.string().nullable(),
    is_admin: z.boolean(),
    last_used_at: z.string().nullable().openapi({ description: 'updated at most once a minute' }),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiToken');

const profilePatch = z
  .object({
    name: nullableText(200),
    username: nullableText(100),
    email: nullableText(320),
    image: nullableText(2000),
    referrer_id: nullableText(256),
  })
  .strict();

const billingPatch = profilePatch
  .extend({
    credits: int8().min(0).optional(),
    plan: plan.optional(),
    stripe_customer_id: nullableText(256),
  })
  .strict();

const externalId = z.string().min(1).max(256).openapi({ description: 'external auth id' });
const userParams = z.object({ user_id: externalId });

function requireAdmin(caller: Caller): void {
  if (!caller.admin) throw forbidden('an admin token is required');
}

export function accountRoutes(router: ApiApp, deps: AppDependencies): void {
  const db = deps.database.db;

  endpoint(router, deps, { method: 'get', path: '/me', tag: 'users', summary: 'The caller’s user', status: 200, response: UserSchema }, async ({ caller }) =>
    toApi(await ensureUser(db, caller.userId)),
  );
  endpoint(
    router,
    deps,
    { method: 'patch', path: '/me', tag: 'users', summary: 'Update the caller’s profile (not billing)', body: profilePatch, status: 200, response: UserSchema },
    async ({ caller, body }) => toApi(await updateUser(db, caller.userId, fromApi(body))),
  );

  endpoint(
    router,
    deps,
    { method: 'get', path: '/tokens', tag: 'tokens', summary: 'The caller’s tokens (never their value)', query: z.object(pageQuery), status: 200, response: pageOf(TokenSchema, 'ApiTokenPage') },
    async ({ caller, query }) => toApiPage(await listTokens(db, { userId: caller.userId }, query)),
  );
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/tokens',
      tag: 'tokens',
      summary: 'Admin: mint a token for an external user id (the user is created if new)',
      description: 'Returns the token once. API-minted tokens are never admin tokens; those come from the CLI.',
      body: z
        .object({
          user_id: externalId,
          name: nullableText(200),
          expires_at: timestamp().nullable().optional(),
        })
        .strict(),
      status: 201,
      response: TokenSchema.extend({ token: z.string().openapi({ description: 'shown this once' }) }).openapi('NewApiToken'),
    },
    async ({ caller, body }) => {
      requireAdmin(caller);
      const { token, info } = await createToken(db, {
        userId: body.user_id,
        name: body.name ?? null,
        expiresAt: body.expires_at ? new Date(body.expires_at) : null,
      });
      return { ...toApi(info), token };
    },
  );
  endpoint(
    router,
    deps,
    {
      method: 'delete',
      path: '/tokens/{id}',
      tag: 'tokens',
      summary: 'Revoke one of the caller’s tokens (an admin: any token)',
      params: z.object({ id: uuidParam }),
      status: 200,
      response: TokenSchema,
    },
    async ({ caller, params }) => toApi(await revokeToken(db, params.id, caller.admin ? {} : { userId: caller.userId })),
  );

  endpoint(
    router,
    deps,
    { method: 'get', path: '/admin/users', tag: 'admin', summary: 'Admin: every user', query: z.object(pageQuery), status: 200, response: pageOf(UserSchema, 'UserPage') },
    async ({ caller, query }) => {
      requireAdmin(caller);
      return toApiPage(await listUsers(db, query));
    },
  );
  endpoint(
    router,
    deps,
    { method: 'get', path: '/admin/users/{user_id}', tag: 'admin', summary: 'Admin: one user', params: userParams, status: 200, response: UserSchema },
    async ({ caller, params }) => {
      requireAdmin(caller);
      return toApi(await getUser(db, params.user_id));
    },
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/admin/users/{user_id}',
      tag: 'admin',
      summary: 'Admin: update a user, billing included',
      params: userParams,
      body: billingPatch,
      status: 200,
      response: UserSchema,
    },
    async ({ caller, params, body }) => {
      requireAdmin(caller);
      return toApi(await updateUser(db, params.user_id, fromApi(body)));
    },
  );
  endpoint(
    router,
    deps,
    { method: 'delete', path: '/admin/users/{user_id}', tag: 'admin', summary: 'Admin: delete a user and everything personal of theirs', params: userParams, status: 204 },
    async ({ caller, params }) => {
      requireAdmin(caller);
      await deleteUser(db, params.user_id);
    },
  );
  endpoint(
    router,
    deps,
    {
      method: 'patch',
      path: '/admin/organizations/{id}',
      tag: 'admin',
      summary: 'Admin: an organization’s billing (plan, credits)',
      params: z.object({ id: uuidParam }),
      body: z.object({ plan: plan.optional(), credits: int8().min(0).optional() }).strict(),
      status: 200,
      response: z.object({}).passthrough(),
    },
    async ({ caller, params, body }) => {
      requireAdmin(caller);
      return toApi(await updateOrganizationBilling(db, params.id, body));
    },
  );
}
