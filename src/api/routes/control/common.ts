/**
 * What every control-plane route shares: bearer-token auth, OpenAPI description (with the security
 * scheme and the error responses), store errors mapped to the one error shape, snake_case bodies in
 * and out, and list/page schemas. Routes stay thin: parse, call the store in src/control/, shape.
 */
import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';

type ResponseConfig = RouteConfig['responses'][string];
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { callerOf, requireToken, type Caller } from '../../auth.js';
import type { ApiApp, AppDependencies } from '../../app.js';
import { ApiError } from '../../errors.js';
import { ControlError } from '../../../control/errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../../control/pagination.js';
import { float4 } from '../../limits.js';

export { z };

const STATUS: Record<ControlError['kind'], ContentfulStatusCode> = { not_found: 404, forbidden: 403, conflict: 409, invalid: 400 };
const CODE: Record<ControlError['kind'], string> = { not_found: 'not_found', forbidden: 'forbidden', conflict: 'conflict', invalid: 'bad_request' };

/** A store refusal as the API's error (400 names the field, like zod failures do). */
export function toApiError(error: unknown): unknown {
  if (!(error instanceof ControlError)) return error;
  const details = error.field ? { issues: [{ field: error.field, message: error.message }] } : null;
  return new ApiError(STATUS[error.kind], CODE[error.kind], error.message, details);
}

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown() }) })
  .openapi('ControlError');

const errorResponse = (description: string) => ({ content: { 'application/json': { schema: ErrorSchema } }, description });
const ERROR_RESPONSES = {
  400: errorResponse('invalid input; the message and details name the field'),
  401: errorResponse('no token, or an invalid, expired or revoked one'),
  403: errorResponse('known to the caller but not theirs to change (e.g. a member managing members)'),
  404: errorResponse('not found, or outside the caller’s reach'),
  409: errorResponse('conflicts with existing state'),
  429: errorResponse('too many failed authentications from this address'),
};

export const uuidParam = z.string().uuid().openapi({ format: 'uuid' });
const optionalText = z.string().max(100_000).nullable().optional();
export const text = (max = 100_000) => z.string().max(max);
export const nullableText = (max = 100_000) => z.string().max(max).nullable().optional();
export { optionalText };

export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .optional()
    .openapi({ type: 'integer', description: `1–${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}` }),
  cursor: z.string().min(1).max(1024).optional().openapi({ description: 'next_cursor of the previous page' }),
};

export const pageOf = (item: z.ZodType, name: string) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() }).openapi(name);

export const embeddingSchema = z.array(float4()).min(1).max(2000).openapi({ description: 'exactly VECTOR_DIMENSION numbers' });

export const searchBody = z.object({
  embedding: embeddingSchema,
  k: z.number().int().min(1).max(100).default(10).openapi({ description: 'how many results, 1–100 (default 10)' }),
  organization_id: uuidParam.optional(),
  project_id: uuidParam.optional(),
  user_id: z.string().min(1).max(256).optional().openapi({ description: 'external user id' }),
});

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface EndpointSpec<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined> {
  method: Method;
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** 204 endpoints return no body. */
  status: 200 | 201 | 204;
  response?: z.ZodType;
  responseDescription?: string;
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : Record<string, never>;

export interface EndpointInput<P, Q, B> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  caller: Caller;
  c: Context;
}

/**
 * Registers one authenticated, OpenAPI-described route. The handler gets validated input and the
 * caller, and returns the response body (ignored for 204).
 */
export function endpoint<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined>(
  router: ApiApp,
  deps: AppDependencies,
  spec: EndpointSpec<P, Q, B>,
  handler: (input: EndpointInput<P, Q, B>) => Promise<unknown>,
): void {
  const request: NonNullable<RouteConfig['request']> = {};
  if (spec.params) request.params = spec.params;
  if (spec.query) request.query = spec.query;
  if (spec.body) request.body = { content: { 'application/json': { schema: spec.body } }, required: true };
  const success: Record<string, ResponseConfig> =
    spec.status === 204
      ? { 204: { description: spec.responseDescription ?? 'done' } }
      : {
          [spec.status]: {
            description: spec.responseDescription ?? 'ok',
            content: { 'application/json': { schema: spec.response ?? z.object({}) } },
          },
        };
  const route = createRoute({
    method: spec.method,
    path: spec.path,
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: [{ bearerAuth: [] }],
    middleware: [requireToken(deps)],
    request,
    responses: { ...success, ...ERROR_RESPONSES },
  });
  const handle = async (c: Context) => {
    const valid = (target: string) => (c.req.valid as (t: string) => unknown).call(c.req, target);
    const input = {
      params: spec.params ? valid('param') : {},
      query: spec.query ? valid('query') : {},
      body: spec.body ? valid('json') : {},
      caller: callerOf(c),
      c,
    } as EndpointInput<P, Q, B>;
    let out: unknown;
    try {
      out = await handler(input);
    } catch (error) {
      throw toApiError(error);
    }
    if (spec.status === 204) return c.body(null, 204);
    return c.json(out as object, spec.status);
  };
  // The handler's response type is checked by `endpoint`'s callers through their store types; the
  // route's declared schemas are for the OpenAPI document.
  router.openapi(route, handle as never);
}

/** Registers the bearer security scheme in the OpenAPI document (once per router is enough). */
export function registerBearerScheme(router: ApiApp): void {
  router.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token: nc_ followed by 43 base64url characters (see docs/control-plane.md).',
  });
}

const HIDDEN = /^(github|tokenHash$)/;

/** A store row as the API returns it: snake_case keys, ISO dates, secrets and github_* never included. */
export function toApi(row: object, omit: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (HIDDEN.test(key) || omit.includes(key)) continue;
    out[key.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

export function toApiPage<T extends object>(page: { items: T[]; next_cursor: string | null }, shape: (row: T) => unknown = toApi) {
  return { items: page.items.map((row) => shape(row)), next_cursor: page.next_cursor };
}

/** A snake_case request body as the store's camelCase input (top-level keys only). */
export function fromApi<T>(body: object): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    out[key.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())] = value;
  }
  return out as T;
}

/** Common response fields of owned rows, for the OpenAPI document. */
export const ownedFields = {
  id: z.string().uuid(),
  user_id: z.string().nullable().openapi({ description: 'owning user (external id); null for an organization row' }),
  organization_id: z.string().uuid().nullable().openapi({ description: 'owning organization; null for a personal row' }),
  created_at: z.string().openapi({ format: 'date-time' }),
  updated_at: z.string().openapi({ format: 'date-time' }),
};
