/** Builds the API over a test database, loads signed events through the store, and calls routes. */
import { pino } from 'pino';
import { createApp, type ApiApp } from '../../src/api/app.js';
import { openResponseCache, type LiveResponseCache } from '../../src/api/live-response-cache.js';
import { ROUTE_GROUPS } from '../../src/api/routes/index.js';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { normalizeEvent } from '../../src/nostr/normalize/index.js';
import type { NormalizeOptions, NostrEvent } from '../../src/nostr/types.js';
import { normalizeOptionsFor } from '../../src/runtime.js';
import { writeBatch } from '../../src/store/write-batch.js';

export async function testNormalizeOptions(): Promise<NormalizeOptions> {
  return normalizeOptionsFor({ subclawBases: ['clawstr.com'] });
}

/** Writes events in order, `chunk` per transaction, through the one write path. */
export async function writeEvents(database: Database, events: readonly NostrEvent[], options: NormalizeOptions, chunk = 50): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) {
    const batch = events.slice(i, i + chunk).map((e) => normalizeEvent(e, options));
    await writeBatch(database.db, batch, { normalizeOptions: options });
  }
}

export function testApp(database: Database, env: Record<string, string> = {}): ApiApp {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  return createApp({ config, database, log: pino({ level: 'silent' }) }, ROUTE_GROUPS);
}

/**
 * The API with a live response cache, as `serve` and `start` run it, once it listens for writes.
 * Close `live` after.
 */
export async function cachedTestApp(database: Database, env: Record<string, string> = {}): Promise<{ app: ApiApp; live: LiveResponseCache }> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  const log = pino({ level: 'silent' });
  const live = await openResponseCache({ config, database, log }, { retryMs: 50 });
  if (config.responseCacheBytes > 0) await until(() => live.listening, 'the response cache listens for writes');
  return { app: createApp({ config, database, log, responseCache: live.cache }, ROUTE_GROUPS), live };
}

/** Polls `check` until it returns something truthy (every 25 ms, up to `timeoutMs`), and returns it. */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(app: ApiApp, path: string, init?: RequestInit): Promise<Reply> {
  const res = await app.request(path, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (docs, metrics)
  }
  return { status: res.status, body, headers: res.headers };
}

export async function post(app: ApiApp, path: string, json: unknown): Promise<Reply> {
  return call(app, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
}

/** Every page of a paginated route, following next_cursor. */
export async function allPages(app: ApiApp, path: string, maxPages = 1000): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await call(app, cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
    items.push(...r.body.items);
    cursor = r.body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error('too many pages');
}

/** Deterministic PRNG (mulberry32), shared with the store tests. */
export { seededRandom as prng } from '../helpers/store.js';
