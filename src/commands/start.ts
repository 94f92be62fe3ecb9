import type { Command } from './command.js';
import { runService } from './service.js';

const common = `The database is embedded PGlite in NOSTR_CACHE_DATA_DIR unless DATABASE_URL is
set; migrations are applied first. SIGTERM or SIGINT stops reading from relays,
commits what is buffered, and closes connections and the database.`;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the daemon: live ingest from relays and the HTTP API',
  help: `Usage: nostr-cache start

Runs live ingest (relays and scopes from RELAYS_FILE, default
relays/default.json) and serves the HTTP API on HOST:PORT.
${common}`,
  options: {},
  run: ({ config }) => runService(config, { http: 'api', ingest: true }),
};

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the HTTP API only (no ingest)',
  help: `Usage: nostr-cache serve

Serves the HTTP API on HOST:PORT without reading from relays: for API-only
processes beside one ingest process on a shared Postgres.
${common}`,
  options: {},
  run: ({ config }) => runService(config, { http: 'api', ingest: false }),
};

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'run live ingest only (health endpoints on HOST:PORT)',
  help: `Usage: nostr-cache ingest

Runs live ingest without the read API; /health, /ready, /health/ingest and
/metrics stay available on HOST:PORT for monitoring.
${common}`,
  options: {},
  run: ({ config }) => runService(config, { http: 'health', ingest: true }),
};
