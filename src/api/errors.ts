/**
 * One error shape for every route: `{ error: { code, message, details } }`. Bad input is a 400
 * naming the field; unknown ids 404; auth 401/403; never a 500 for anything a client sent.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z, ZodError } from 'zod';
import type { Logger } from '../log.js';
import { summarizeError } from './error-summary.js';
import type { ErrorSchema } from './schemas.js';
import { routeLabel } from './middleware/route-label.js';

export type ErrorBody = z.infer<typeof ErrorSchema>;

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const badRequest = (message: string, details: unknown = null) => new ApiError(400, 'bad_request', message, details);

export function errorBody(code: string, message: string, details: unknown = null): ErrorBody {
  return { error: { code, message, details } };
}

/** A zod failure as a 400 that names each bad field (`query.limit`, `body.pubkeys.3`, ...). */
export function validationError(error: ZodError, target: string): ErrorBody {
  const unknown: string[] = [];
  const issues = error.issues.flatMap((issue) => {
    const at = [target, ...issue.path.map(String)];
    if (issue.code !== 'unrecognized_keys' || target !== 'query') return [{ field: at.join('.'), message: issue.message }];
    // Unknown query parameters (strict-query.ts): one issue per parameter, named like any field.
    unknown.push(...issue.keys);
    return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'unknown query parameter' }));
  });
  if (unknown.length > 0) return unknownQueryBody(unknown, issues);
  const first = issues[0];
  return errorBody('bad_request', first ? `invalid ${first.field}: ${first.message}` : 'invalid request', { issues });
}

/** A 400 naming unknown query parameters (strict-query.ts refuses them on every route). */
export function unknownQueryBody(names: readonly string[], issues = names.map((name) => ({ field: `query.${name}`, message: 'unknown query parameter' }))): ErrorBody {
  return errorBody('bad_request', `unknown query parameter${names.length > 1 ? 's' : ''}: ${names.join(', ')}`, { issues });
}

/** The app-wide onError: known errors keep their status; anything else is a logged 500. */
export function handleError(log: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.details), error.status);
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      // Hono raises 400 for malformed JSON bodies and similar client mistakes.
      return c.json(errorBody(status === 400 ? 'bad_request' : 'http_error', error.message || 'request failed'), status);
    }
    // Never the error object itself: a database error carries the query and its parameters.
    log.error({ error: summarizeError(error), method: c.req.method, route: routeLabel(c) }, 'unhandled error');
    return c.json(errorBody('internal', 'internal error'), 500);
  };
}
