/**
 * The tenant matrix, generated from /openapi.json: every secured control-plane operation on a row
 * kind (projects, repos, threads, messages, issues, knowledge, numbers, organizations) is called on
 * rows of user A, personal and in A's organization, by
 *   - B, a stranger:              404 for item routes, A's rows absent from lists and searches;
 *   - R, a member who was removed: the same as B;
 *   - M, a current member:        organization rows reachable (2xx, or 403 where only owners may),
 *                                 A's personal rows 404;
 *   - A itself:                   2xx, which proves each generated request is valid.
 * Each (operation, scope) gets fresh rows, so destructive operations do not disturb the others.
 * Bodies are the schema's required fields with plain values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { controlRoutes } from '../../src/api/routes/control/index.js';
import { engines } from '../helpers/engines.js';
import { createHarness, DIMENSION, type Harness } from './helpers.js';
import { operationsOf, type Operation } from '../helpers/openapi-arbitrary.js';

const KINDS = ['projects', 'repos', 'threads', 'messages', 'issues', 'knowledge', 'numbers', 'organizations'] as const;
type Kind = (typeof KINDS)[number];
type Scope = 'personal' | 'organization';
type Rows = Record<Kind, string> & { scope: Scope; org: string };

const ORG_OWNABLE = new Set(['projects', 'threads', 'issues', 'knowledge', 'numbers']);

function kindOf(op: Operation): Kind | null {
  const segment = /^\/v1\/([a-z]+)/.exec(op.path)?.[1];
  return (KINDS as readonly string[]).includes(segment ?? '') ? (segment as Kind) : null;
}

/** The schema's required fields with plain values (enums take their first value). */
function minimal(schema: any, doc: any, name = ''): unknown {
  let s = schema;
  while (s?.$ref) s = s.$ref.replace('#/', '').split('/').reduce((o: any, k: string) => o?.[k], doc);
  if (name === 'embedding') return Array.from({ length: DIMENSION }, (_, i) => (i === 0 ? 1 : 0));
  if (s?.enum) return s.enum[0];
  const type = Array.isArray(s?.type) ? s.type.find((t: string) => t !== 'null') : s?.type;
  if (type === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of s.required ?? []) out[key] = minimal(s.properties?.[key], doc, key);
    return out;
  }
  if (type === 'array') return [minimal(s.items, doc)];
  if (type === 'integer' || type === 'number') return Math.max(s.minimum ?? 1, 1);
  if (type === 'boolean') return false;
  return `x${Math.random().toString(36).slice(2, 8)}`;
}

describe.each(engines)('tenant matrix on %s', (driver) => {
  let h: Harness;
  let doc: any;
  const tokens: Record<'a' | 'b' | 'm' | 'r', string> = { a: '', b: '', m: '', r: '' };
  let counted = 0;

  const call = (who: keyof typeof tokens, method: string, path: string, body?: unknown) =>
    h.call(method, path, { token: tokens[who], ...(body !== undefined ? { body } : {}) });

  async function rows(scope: Scope): Promise<Rows> {
    const org = (await call('a', 'POST', '/v1/organizations', { name: 'A org' })).body.id as string;
    for (const user of ['tm-m', 'tm-r']) expect((await call('a', 'POST', `/v1/organizations/${org}/members`, { user_id: user })).status).toBe(201);
    expect((await call('a', 'DELETE', `/v1/organizations/${org}/members/tm-r`)).status).toBe(204);
    const owner = scope === 'organization' ? { organization_id: org } : {};
    const made = async (path: string, body: object) => {
      const r = await call('a', 'POST', path, body);
      expect(r.status, `${path} ${JSON.stringify(r.body)}`).toBe(201);
      return r.body.id as string;
    };
    const project = await made('/v1/projects', { name: 'p', ...owner });
    const thread = await made('/v1/threads', { project_id: project });
    const message = await made(`/v1/threads/${thread}/messages`, { role: 'user', content: 'm' });
    expect((await call('a', 'PUT', `/v1/messages/${message}/embedding`, { embedding: minimal({}, doc, 'embedding') })).status).toBe(200);
    const issue = await made('/v1/issues', { title: 'i', ...owner });
    expect((await call('a', 'PUT', `/v1/issues/${issue}/threads/${thread}`)).status).toBeLessThan(300);
    return {
      scope,
      org,
      organizations: org,
      projects: project,
      threads: thread,
      messages: message,
      repos: await made(`/v1/projects/${project}/repos`, { owner: 'acme', name: `r${Math.random().toString(36).slice(2)}` }),
      issues: issue,
      knowledge: await made('/v1/knowledge', { title: 'k', embedding: minimal({}, doc, 'embedding'), ...owner }),
      numbers: await made('/v1/numbers', { name: `n${Math.random().toString(36).slice(2)}`, ...owner }),
    };
  }

  /** The request of `op` on rows `fx`; null when the operation does not apply to the scope. */
  function request(op: Operation, kind: Kind, fx: Rows): { path: string; body?: unknown } | null {
    let path = op.path;
    for (const p of op.pathParams) {
      const value = p.name === 'id' ? fx[kind] : p.name === 'repo_id' ? fx.repos : p.name === 'thread_id' ? fx.threads : p.name === 'user_id' ? 'tm-m' : null;
      if (value === null) return null;
      path = path.replace(`{${p.name}}`, value);
    }
    let body = op.body ? (minimal(op.body, doc) as Record<string, unknown>) : undefined;
    if (op.method === 'POST' && op.pathParams.length === 0 && body && !path.endsWith('/search')) {
      // Creating under A's organization: the foreign thing is the organization.
      if (fx.scope !== 'organization' || !ORG_OWNABLE.has(kind)) return null;
      body = { ...body, organization_id: fx.org };
    }
    // Searches narrowed to A's rows (by owner), so older fixtures' identical embeddings cannot crowd them out.
    if (path.endsWith('/search')) body = { ...body, k: 100, ...(fx.scope === 'organization' ? { organization_id: fx.org } : { user_id: 'tm-a' }) };
    if (path.startsWith(`/v1/organizations/${fx.org}/members`) && op.method === 'POST' && body) body = { user_id: `tm-new${Math.random().toString(36).slice(2)}` };
    return { path, ...(body !== undefined ? { body } : {}) };
  }

  const foreignIds = (fx: Rows) => KINDS.map((k) => fx[k]);
  const mentions = (body: unknown, fx: Rows) => foreignIds(fx).filter((id) => JSON.stringify(body).includes(id));

  beforeAll(async () => {
    h = await createHarness(driver);
    tokens.a = await h.mint('tm-a');
    tokens.b = await h.mint('tm-b');
    tokens.m = await h.mint('tm-m');
    tokens.r = await h.mint('tm-r');
    doc = await (await createApp(h.deps, [controlRoutes]).request('/openapi.json')).json();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('covers every row kind and operation, personal and organization rows', async () => {
    const ops = operationsOf(doc).filter((op) => op.secured && kindOf(op) !== null);
    expect(new Set(ops.map(kindOf))).toEqual(new Set(KINDS));
    for (const op of ops) {
      const kind = kindOf(op)!;
      const scopes: Scope[] = kind === 'organizations' ? ['organization'] : ['personal', 'organization'];
      for (const scope of scopes) {
        const fx = await rows(scope);
        const req = request(op, kind, fx);
        if (!req) continue;
        counted++;
        const label = `${op.method} ${op.path} (${scope})`;
        const isItem = op.pathParams.length > 0 || (op.method === 'POST' && !req.path.endsWith('/search'));
        const outsiders: Array<'b' | 'r'> = ['b', 'r'];
        if (scope === 'personal') outsiders.push('m' as never);
        for (const who of outsiders as Array<keyof typeof tokens>) {
          const r = await call(who, op.method, req.path, req.body);
          if (isItem) expect(r.status, `${label} as ${who}`).toBe(404);
          else {
            expect(r.status, `${label} as ${who}`).toBeLessThan(300);
            expect(mentions(r.body, fx), `${label} as ${who} lists A's rows`).toEqual([]);
          }
        }
        if (scope === 'organization') {
          const member = await call('m', op.method, req.path, req.body);
          expect([200, 201, 204, 403], `${label} as member: ${JSON.stringify(member.body)}`).toContain(member.status);
          if (!isItem && member.status < 300 && kind !== 'organizations') expect(mentions(member.body, fx).length, `${label} as member sees the organization's rows`).toBeGreaterThan(0);
        }
        // A's own call on fresh rows proves the request was valid.
        // Fresh rows only where the member's call may have removed them.
        const own = request(op, kind, scope === 'organization' && op.method === 'DELETE' ? await rows(scope) : fx)!;
        const mine = await call('a', op.method, own.path, own.body);
        expect(mine.status, `${label} as A: ${JSON.stringify(mine.body)}`).toBeLessThan(300);
      }
    }
    console.info(`tenant matrix on ${driver}: ${counted} (operation, scope) cases, each as B, R, M and A`);
    expect(counted).toBeGreaterThanOrEqual(60);
  }, 600_000);
});
