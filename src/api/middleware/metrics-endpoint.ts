/**
 * GET /metrics in Prometheus text format: whatever was registered (HTTP latency, ingest counters)
 * plus the database connections as the server sees them, refreshed at each scrape.
 */
import type { Handler } from 'hono';
import type { Database } from '../../db/client.js';
import type { MetricsRegistry } from '../../metrics/registry.js';
import { connectionsByState } from '../../store/db-activity.js';

export function registerDatabaseMetrics(registry: MetricsRegistry, database: Database): void {
  const info = registry.gauge('nostr_cache_db_info', 'Database driver in use (value 1)');
  info.set({ driver: database.driver }, 1);
  const connections = registry.gauge(
    'nostr_cache_db_connections',
    'Server connections to this database by state (pg_stat_activity), the pool included',
  );
  registry.addCollector(async () => {
    const rows = await connectionsByState(database.db);
    connections.reset();
    for (const row of rows) connections.set({ state: row.state }, row.count);
  });
}

export function metricsHandler(registry: MetricsRegistry): Handler {
  return async (c) => {
    c.header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    c.header('Cache-Control', 'no-store');
    return c.body(await registry.render());
  };
}
