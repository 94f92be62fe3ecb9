/** One structured log line per request: method, path, matched route, status and duration. */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../log.js';
import { routeLabel } from './route-label.js';

export function requestLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const fields = {
      method: c.req.method,
      path: c.req.path,
      route: routeLabel(c),
      status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
    };
    if (status >= 500) log.error(fields, 'request');
    else log.info(fields, 'request');
  };
}
