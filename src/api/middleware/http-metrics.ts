/** HTTP latency histogram by method, route pattern and status, on the shared metrics registry. */
import type { MiddlewareHandler } from 'hono';
import { LATENCY_BUCKETS, type MetricsRegistry } from '../../metrics/registry.js';
import { routeLabel } from './route-label.js';

export function httpMetrics(registry: MetricsRegistry): MiddlewareHandler {
  const duration = registry.histogram(
    'nostr_cache_http_request_duration_seconds',
    'HTTP request latency by method, route and status',
    LATENCY_BUCKETS,
  );
  return async (c, next) => {
    const started = performance.now();
    await next();
    duration.observe(
      { method: c.req.method, route: routeLabel(c), status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  };
}
