/**
 * The root path for people: GET / answers browsers (Accept: text/html) with the status page and
 * anything else with a short JSON pointer to the API. Other answers on the same path (NIP-11 for
 * `Accept: application/nostr+json`, the NIP-01 WebSocket) are routed before this one. The page's
 * data is GET /status.json; its assets are served from memory.
 */
import type { Context } from 'hono';
import { probeDatabase } from '../../db/health.js';
import type { ApiApp, AppDependencies } from '../app.js';
import { noQueryParameters } from '../strict-query.js';
import { STATUS_CSS, STATUS_HTML, STATUS_JS } from './assets.js';
import { statusView } from './view.js';

/** True when the client asks for HTML (a browser), judged by its Accept header. */
export function wantsHtml(c: Context): boolean {
  return (c.req.header('accept') ?? '').toLowerCase().includes('text/html');
}

export function registerStatusRoutes(app: ApiApp, deps: AppDependencies): void {
  app.get('/', noQueryParameters(), (c) => {
    c.header('Vary', 'Accept');
    if (wantsHtml(c)) {
      c.header('Cache-Control', 'no-cache');
      return c.html(STATUS_HTML);
    }
    return c.json({
      name: 'nostr-cache',
      status: '/status.json',
      docs: '/docs',
      openapi: '/openapi.json',
      health: ['/health', '/ready', '/health/ingest'],
      metrics: '/metrics',
    });
  });

  app.get('/status.json', noQueryParameters(), async (c) => {
    const database = await probeDatabase(deps.database);
    c.header('Cache-Control', 'no-store');
    return c.json(
      statusView({
        now: Date.now(),
        ingest: deps.ingest ? deps.ingest.report() : null,
        database,
        engineMemoryBytes: deps.database.engineMemoryBytes(),
        maintenance: deps.maintenance?.report() ?? null,
        rates: deps.rates?.points() ?? [],
      }),
    );
  });

  const asset = (body: string, type: string) => (c: Context) => {
    c.header('Content-Type', type);
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(body);
  };
  app.get('/assets/status.js', noQueryParameters(), asset(STATUS_JS, 'text/javascript; charset=utf-8'));
  app.get('/assets/status.css', noQueryParameters(), asset(STATUS_CSS, 'text/css; charset=utf-8'));
}
