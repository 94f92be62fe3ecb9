/**
 * Unknown query parameters are refused, on every route, in one place. A typo or a parameter that
 * belongs to another route (`approved` on /v1/feed) would otherwise be dropped silently and the
 * client would get a 200 that ignored what it asked for.
 *
 * OpenAPI routes: every router the app creates registers its routes through `strictRouter`, which
 * makes each route's query schema strict (a route without one gets an empty strict schema), so the
 * shared validation hook answers 400 naming the parameters (errors.ts, `unrecognized_keys`).
 * Plain routes outside the OpenAPI document (/health, /metrics, /docs, /) take `noQueryParameters`.
 */
import { z, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Env, MiddlewareHandler } from 'hono';
import { unknownQueryBody } from './errors.js';

/** The route with its query schema made strict (unknown keys fail validation). */
export function withStrictQuery<R extends RouteConfig>(route: R): R {
  const query = route.request?.query;
  if (query !== undefined && !(query instanceof z.ZodObject)) return route; // not an object: nothing to name
  const strict = query ? query.strict() : z.object({}).strict();
  return { ...route, request: { ...route.request, query: strict } };
}

/** Makes every `router.openapi(route, …)` register the strict form of the route. */
export function strictRouter<E extends Env>(router: OpenAPIHono<E>): OpenAPIHono<E> {
  const register = router.openapi;
  router.openapi = ((route: RouteConfig, ...rest: unknown[]) =>
    (register as (...args: unknown[]) => unknown)(withStrictQuery(route), ...rest)) as typeof router.openapi;
  return router;
}

/** The names of query parameters not in `allowed`, each once, in the order they appear. */
export function unknownQueryParameters(url: string, allowed: readonly string[] = []): string[] {
  return [...new Set(new URL(url).searchParams.keys())].filter((name) => !allowed.includes(name));
}

/** For plain (non-OpenAPI) routes: a 400 naming any query parameter not in `allowed`. */
export function noQueryParameters(allowed: readonly string[] = []): MiddlewareHandler {
  return async (c, next) => {
    const unknown = unknownQueryParameters(c.req.url, allowed);
    if (unknown.length > 0) return c.json(unknownQueryBody(unknown), 400);
    await next();
  };
}
