/**
 * A property-based fuzzer generated from /openapi.json: every operation, called without a token, with
 * a user's and with an admin's, with requests that follow the declared schemas or break them
 * (test/helpers/openapi-arbitrary.ts). Properties: no 5xx (except the documented 503
 * `ingest_not_running` of backfill in a process without ingest), every error in the one JSON error
 * shape, /health answering 200 alongside. Fixed seed and bounded runs; inputs that once failed are
 * kept in test/fixtures/fuzz-corpus.json and replayed first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ApiApp } from '../../src/api/app.js';
import { ROUTE_GROUPS } from '../../src/api/routes/index.js';
import { communityAddress, handBuiltEvents, pubkeys, world } from '../fixtures/hand-built.js';
import { createHarness, type Harness } from '../control/helpers.js';
import { engines } from '../helpers/engines.js';
import { operationsOf, requestArbitrary, type FuzzRequest, type Operation } from '../helpers/openapi-arbitrary.js';
import { testNormalizeOptions, writeEvents } from './helpers.js';

const SEED = 20261204;
/** Runs per operation and token kind: 83 operations × 3 token kinds × 6 = 1,494 requests per engine. */
const RUNS = 6;
const HEALTH_EVERY = 25;

interface CorpusEntry {
  note: string;
  request: FuzzRequest;
}
const corpus = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/fuzz-corpus.json'), 'utf8')) as CorpusEntry[];

type TokenKind = 'none' | 'user' | 'admin';

describe.each(engines)('OpenAPI fuzzer on %s', (driver) => {
  let h: Harness;
  let app: ApiApp;
  let doc: any;
  let operations: Operation[];
  const tokens: Record<TokenKind, string | undefined> = { none: undefined, user: undefined, admin: undefined };
  const known: string[] = [];
  const failures: Array<{ request: FuzzRequest; token: TokenKind; status: number; body: string }> = [];
  let requests = 0;
  let healthChecks = 0;

  async function send(request: FuzzRequest, token: TokenKind): Promise<void> {
    const headers: Record<string, string> = {};
    if (tokens[token]) headers.authorization = `Bearer ${tokens[token]}`;
    let body: string | undefined;
    if (request.body) {
      headers['content-type'] = 'application/json';
      body = 'raw' in request.body ? request.body.raw : JSON.stringify(request.body.json);
    }
    const env = { incoming: { socket: { remoteAddress: '192.0.2.200' } } };
    const withHealth = ++requests % HEALTH_EVERY === 0;
    const [response, health] = await Promise.all([
      app.request(request.path, { method: request.method, headers, ...(body !== undefined ? { body } : {}) }, env),
      withHealth ? app.request('/health', {}, env) : Promise.resolve(null),
    ]);
    if (health) {
      healthChecks++;
      if (health.status !== 200) failures.push({ request: { method: 'GET', path: '/health' }, token, status: health.status, body: await health.text() });
    }
    const text = await response.text();
    const fail = () => failures.push({ request, token, status: response.status, body: text.slice(0, 300) });
    if (response.status >= 500) {
      if (!(response.status === 503 && text.includes('ingest_not_running'))) fail();
      return;
    }
    if (response.status >= 400) {
      try {
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        if (typeof parsed.error?.code !== 'string' || typeof parsed.error.message !== 'string') fail();
      } catch {
        fail();
      }
    }
  }

  beforeAll(async () => {
    h = await createHarness(driver, { AUTH_FAILURE_LIMIT: '1000000' }, ROUTE_GROUPS);
    app = createApp(h.deps, ROUTE_GROUPS);
    await writeEvents(h.database, handBuiltEvents, await testNormalizeOptions(), 100);
    tokens.user = await h.mint('fuzz-user');
    tokens.admin = await h.mint('fuzz-admin', { admin: true });
    doc = await (await app.request('/openapi.json')).json();
    // Rows that exist, so generated ids reach the store's happy paths too.
    const as = async (path: string, body: unknown, token = tokens.user) =>
      (await h.call('POST', path, { token, body })).body?.id as string | undefined;
    const org = await as('/v1/organizations', { name: 'fuzz org' });
    const project = await as('/v1/projects', { name: 'fuzz project' });
    const thread = await as('/v1/threads', { project_id: project });
    const message = await as(`/v1/threads/${thread}/messages`, { role: 'user', content: 'hello' });
    const issue = await as('/v1/issues', { title: 'fuzz issue' });
    const knowledge = await as('/v1/knowledge', { title: 'fuzz knowledge' });
    const number = await as('/v1/numbers', { name: 'fuzz number' });
    const repo = await as(`/v1/projects/${project}/repos`, { owner: 'acme', name: 'fuzz' });
    await as('/v1/agents', { slug: 'fuzz-agent', name: 'Fuzz' }, tokens.admin);
    for (const id of [org, project, thread, message, issue, knowledge, number, repo]) if (id) known.push(id);
    known.push('fuzz-user', 'fuzz-admin', 'fuzz-agent', world.posts.aiTopLevel.id, pubkeys.alice, communityAddress);
    expect(known.length).toBeGreaterThanOrEqual(14);
    // Destructive operations last, so the rows above serve the others first.
    operations = operationsOf(doc).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('replays the corpus of once-failing inputs', async () => {
    for (const entry of corpus) for (const token of ['none', 'user', 'admin'] as const) await send(entry.request, token);
    expect(failures).toEqual([]);
  });

  it('answers every operation without a 5xx and every error in the error shape', async () => {
    expect(operations.length).toBeGreaterThanOrEqual(83);
    for (const op of operations) {
      for (const token of ['none', 'user', 'admin'] as const) {
        await fc.assert(
          fc.asyncProperty(requestArbitrary(op, doc, known), async (request) => {
            await send(request, token);
          }),
          { seed: SEED, numRuns: RUNS },
        );
      }
    }
    const health = await app.request('/health');
    expect(health.status).toBe(200);
    // Visible in the test output: how much was covered.
    console.info(`fuzzer on ${driver}: ${operations.length} operations, ${requests} requests, ${healthChecks} health checks, ${failures.length} failures`);
    expect(failures.slice(0, 20)).toEqual([]);
  }, 300_000);
});
