/**
 * The authorisation matrix: every control-plane route, called by an organization owner, a member, a
 * user of another organization, an admin (not a member), no token, an expired token and a revoked
 * token. Each expected status is written out. Rows outside the caller's reach are 404, never 403.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createOrganization } from '../../src/control/organizations.js';
import { createIssue } from '../../src/control/issues.js';
import { createKnowledge } from '../../src/control/knowledge.js';
import { createNumber } from '../../src/control/numbers.js';
import { createProject, linkRepo } from '../../src/control/projects.js';
import { createMessage, createThread, putMessageEmbedding } from '../../src/control/threads.js';
import { createToken, revokeToken } from '../../src/control/tokens.js';
import type { Caller } from '../../src/control/scope.js';
import { engines } from '../helpers/engines.js';
import { createHarness, DIMENSION, type Harness } from './helpers.js';

const ROLES = ['owner', 'member', 'other', 'admin', 'none', 'expired', 'revoked'] as const;
type Role = (typeof ROLES)[number];
type Statuses = [owner: number, member: number, other: number, admin: number, none: number, expired: number, revoked: number];

interface Fixture {
  org: string;
  project: string;
  thread: string;
  message: string;
  issue: string;
  knowledge: string;
  number: string;
  repo: string;
  ownerTokenId: string;
}

interface Case {
  route: string;
  /** Builds the request; called once per role, so destructive cases create their own target. */
  request: (fx: Fixture, h: Harness) => Promise<{ path: string; body?: unknown }>;
  expected: Statuses;
}

const alice: Caller = { userId: 'alice', admin: false, tokenId: '' };
let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;
const v = (...xs: number[]) => xs;

const fixed = (path: (fx: Fixture) => string, body?: (fx: Fixture) => unknown) => async (fx: Fixture) => ({
  path: path(fx),
  ...(body ? { body: body(fx) } : {}),
});

const CASES: Case[] = [
  // users and tokens
  { route: 'GET /me', request: fixed(() => '/v1/me'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'PATCH /me', request: fixed(() => '/v1/me', () => ({ name: 'N' })), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'GET /tokens', request: fixed(() => '/v1/tokens'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'POST /tokens', request: fixed(() => '/v1/tokens', () => ({ user_id: unique('minted') })), expected: [403, 403, 403, 201, 401, 401, 401] },
  {
    route: 'DELETE /tokens/{id}',
    request: async (_fx, h) => ({ path: `/v1/tokens/${(await createToken(h.database.db, { userId: 'alice' })).info.id}` }),
    expected: [200, 404, 404, 200, 401, 401, 401],
  },
  { route: 'GET /admin/users', request: fixed(() => '/v1/admin/users'), expected: [403, 403, 403, 200, 401, 401, 401] },
  { route: 'GET /admin/users/{id}', request: fixed(() => '/v1/admin/users/alice'), expected: [403, 403, 403, 200, 401, 401, 401] },
  { route: 'PATCH /admin/users/{id}', request: fixed(() => '/v1/admin/users/alice', () => ({ credits: 5 })), expected: [403, 403, 403, 200, 401, 401, 401] },
  {
    route: 'DELETE /admin/users/{id}',
    request: async (_fx, h) => {
      const id = unique('doomed');
      await h.mint(id);
      return { path: `/v1/admin/users/${id}` };
    },
    expected: [403, 403, 403, 204, 401, 401, 401],
  },
  { route: 'PATCH /admin/organizations/{id}', request: fixed((fx) => `/v1/admin/organizations/${fx.org}`, () => ({ plan: 'pro' })), expected: [403, 403, 403, 200, 401, 401, 401] },
  // organizations and members
  { route: 'GET /organizations', request: fixed(() => '/v1/organizations'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'POST /organizations', request: fixed(() => '/v1/organizations', () => ({ name: 'New' })), expected: [201, 201, 201, 201, 401, 401, 401] },
  { route: 'GET /organizations/{id}', request: fixed((fx) => `/v1/organizations/${fx.org}`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PATCH /organizations/{id}', request: fixed((fx) => `/v1/organizations/${fx.org}`, () => ({ name: 'Acme 2' })), expected: [200, 403, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /organizations/{id}',
    request: async (_fx, h) => {
      const org = await createOrganization(h.database.db, alice, { name: unique('org') });
      await addMember(h.database.db, alice, org.id, { userId: 'bob', role: 'member' });
      return { path: `/v1/organizations/${org.id}` };
    },
    expected: [204, 403, 404, 404, 401, 401, 401],
  },
  { route: 'GET /organizations/{id}/members', request: fixed((fx) => `/v1/organizations/${fx.org}/members`), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'POST /organizations/{id}/members',
    request: fixed((fx) => `/v1/organizations/${fx.org}/members`, () => ({ user_id: unique('invitee') })),
    expected: [201, 403, 404, 404, 401, 401, 401],
  },
  {
    route: 'PATCH /organizations/{id}/members/{user}',
    request: fixed((fx) => `/v1/organizations/${fx.org}/members/dave`, () => ({ role: 'member' })),
    expected: [200, 403, 404, 404, 401, 401, 401],
  },
  {
    route: 'DELETE /organizations/{id}/members/{user}',
    request: async (fx, h) => {
      const user = unique('leaver');
      await addMember(h.database.db, alice, fx.org, { userId: user, role: 'member' });
      return { path: `/v1/organizations/${fx.org}/members/${user}` };
    },
    expected: [204, 403, 404, 404, 401, 401, 401],
  },
  // projects and repos
  { route: 'GET /projects', request: fixed(() => '/v1/projects'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'POST /projects (org)', request: fixed(() => '/v1/projects', (fx) => ({ name: 'P2', organization_id: fx.org })), expected: [201, 201, 404, 404, 401, 401, 401] },
  { route: 'GET /projects/{id}', request: fixed((fx) => `/v1/projects/${fx.project}`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PATCH /projects/{id}', request: fixed((fx) => `/v1/projects/${fx.project}`, () => ({ description: 'd' })), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /projects/{id}',
    request: async (fx, h) => ({ path: `/v1/projects/${(await createProject(h.database.db, alice, { name: unique('p'), organizationId: fx.org })).id}` }),
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  { route: 'GET /projects/{id}/repos', request: fixed((fx) => `/v1/projects/${fx.project}/repos`), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'POST /projects/{id}/repos',
    request: fixed((fx) => `/v1/projects/${fx.project}/repos`, () => ({ owner: 'acme', name: unique('repo') })),
    expected: [201, 201, 404, 404, 401, 401, 401],
  },
  {
    route: 'DELETE /projects/{id}/repos/{repo}',
    request: async (fx, h) => {
      const repo = await linkRepo(h.database.db, alice, fx.project, { owner: 'acme', name: unique('gone') });
      return { path: `/v1/projects/${fx.project}/repos/${repo.id}` };
    },
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  { route: 'GET /repos/{id}', request: fixed((fx) => `/v1/repos/${fx.repo}`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PATCH /repos/{id}', request: fixed((fx) => `/v1/repos/${fx.repo}`, () => ({ default_branch: 'main' })), expected: [200, 200, 404, 404, 401, 401, 401] },
  // threads, messages, embeddings, search
  { route: 'GET /threads', request: fixed(() => '/v1/threads'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'POST /threads (org)', request: fixed(() => '/v1/threads', (fx) => ({ organization_id: fx.org })), expected: [201, 201, 404, 404, 401, 401, 401] },
  { route: 'POST /threads (project)', request: fixed(() => '/v1/threads', (fx) => ({ project_id: fx.project })), expected: [201, 201, 404, 404, 401, 401, 401] },
  { route: 'GET /threads/{id}', request: fixed((fx) => `/v1/threads/${fx.thread}`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PATCH /threads/{id}', request: fixed((fx) => `/v1/threads/${fx.thread}`, () => ({ is_shared: true })), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /threads/{id}',
    request: async (fx, h) => ({ path: `/v1/threads/${(await createThread(h.database.db, alice, { organizationId: fx.org })).id}` }),
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  { route: 'GET /threads/{id}/messages', request: fixed((fx) => `/v1/threads/${fx.thread}/messages`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'POST /threads/{id}/messages', request: fixed((fx) => `/v1/threads/${fx.thread}/messages`, () => ({ role: 'user', content: 'hi' })), expected: [201, 201, 404, 404, 401, 401, 401] },
  { route: 'GET /messages/{id}', request: fixed((fx) => `/v1/messages/${fx.message}`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PATCH /messages/{id}', request: fixed((fx) => `/v1/messages/${fx.message}`, () => ({ finish_reason: 'stop' })), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /messages/{id}',
    request: async (fx, h) => ({ path: `/v1/messages/${(await createMessage(h.database.db, alice, fx.thread, { role: 'user', content: 'x' })).id}` }),
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  { route: 'GET /messages/{id}/embedding', request: fixed((fx) => `/v1/messages/${fx.message}/embedding`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PUT /messages/{id}/embedding', request: fixed((fx) => `/v1/messages/${fx.message}/embedding`, () => ({ embedding: v(1, 2, 3) })), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /messages/{id}/embedding',
    request: async (fx, h) => {
      const message = await createMessage(h.database.db, alice, fx.thread, { role: 'user', content: 'x' });
      await putMessageEmbedding(h.database.db, alice, message.id, v(1, 0, 0), DIMENSION);
      return { path: `/v1/messages/${message.id}/embedding` };
    },
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  { route: 'POST /messages/search', request: fixed(() => '/v1/messages/search', () => ({ embedding: v(1, 0, 0) })), expected: [200, 200, 200, 200, 401, 401, 401] },
  // issues
  { route: 'GET /issues', request: fixed(() => '/v1/issues'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'POST /issues (org)', request: fixed(() => '/v1/issues', (fx) => ({ title: 'I', organization_id: fx.org })), expected: [201, 201, 404, 404, 401, 401, 401] },
  { route: 'GET /issues/{id}', request: fixed((fx) => `/v1/issues/${fx.issue}`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PATCH /issues/{id}', request: fixed((fx) => `/v1/issues/${fx.issue}`, () => ({ status_id: 'done' })), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /issues/{id}',
    request: async (fx, h) => ({ path: `/v1/issues/${(await createIssue(h.database.db, alice, { title: 'x', organizationId: fx.org })).id}` }),
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  { route: 'GET /issues/{id}/threads', request: fixed((fx) => `/v1/issues/${fx.issue}/threads`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PUT /issues/{id}/threads/{thread}', request: fixed((fx) => `/v1/issues/${fx.issue}/threads/${fx.thread}`), expected: [204, 204, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /issues/{id}/threads/{thread}',
    request: async (fx, h) => {
      const issue = await createIssue(h.database.db, alice, { title: 'x', organizationId: fx.org });
      await h.database.db.execute(sql`INSERT INTO issue_threads (issue_id, thread_id) VALUES (${issue.id}, ${fx.thread})`);
      return { path: `/v1/issues/${issue.id}/threads/${fx.thread}` };
    },
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  // knowledge
  { route: 'GET /knowledge', request: fixed(() => '/v1/knowledge'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'POST /knowledge (org)', request: fixed(() => '/v1/knowledge', (fx) => ({ title: 'K', organization_id: fx.org, embedding: v(0, 1, 0) })), expected: [201, 201, 404, 404, 401, 401, 401] },
  { route: 'GET /knowledge/{id}', request: fixed((fx) => `/v1/knowledge/${fx.knowledge}`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PATCH /knowledge/{id}', request: fixed((fx) => `/v1/knowledge/${fx.knowledge}`, () => ({ tags: ['a'] })), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /knowledge/{id}',
    request: async (fx, h) => ({ path: `/v1/knowledge/${(await createKnowledge(h.database.db, alice, { title: 'x', organizationId: fx.org }, DIMENSION)).id}` }),
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  { route: 'POST /knowledge/search', request: fixed(() => '/v1/knowledge/search', () => ({ embedding: v(1, 0, 0) })), expected: [200, 200, 200, 200, 401, 401, 401] },
  // agents: everyone reads, admins write
  { route: 'GET /agents', request: fixed(() => '/v1/agents'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'POST /agents', request: fixed(() => '/v1/agents', () => ({ slug: unique('agent'), name: 'A' })), expected: [403, 403, 403, 201, 401, 401, 401] },
  { route: 'GET /agents/{slug}', request: fixed(() => '/v1/agents/helper'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'PATCH /agents/{slug}', request: fixed(() => '/v1/agents/helper', () => ({ sort_order: 2 })), expected: [403, 403, 403, 200, 401, 401, 401] },
  {
    route: 'DELETE /agents/{slug}',
    request: async (_fx, h) => {
      const slug = unique('temp');
      await h.database.db.execute(sql`INSERT INTO agents (id, slug, name) VALUES (gen_random_uuid(), ${slug}, 'T')`);
      return { path: `/v1/agents/${slug}` };
    },
    expected: [403, 403, 403, 204, 401, 401, 401],
  },
  // numbers
  { route: 'GET /numbers', request: fixed(() => '/v1/numbers'), expected: [200, 200, 200, 200, 401, 401, 401] },
  { route: 'POST /numbers (org)', request: fixed(() => '/v1/numbers', (fx) => ({ name: unique('n'), organization_id: fx.org })), expected: [201, 201, 404, 404, 401, 401, 401] },
  { route: 'GET /numbers/{id}', request: fixed((fx) => `/v1/numbers/${fx.number}`), expected: [200, 200, 404, 404, 401, 401, 401] },
  { route: 'PATCH /numbers/{id}', request: fixed((fx) => `/v1/numbers/${fx.number}`, () => ({ value: 10 })), expected: [200, 200, 404, 404, 401, 401, 401] },
  {
    route: 'DELETE /numbers/{id}',
    request: async (fx, h) => ({ path: `/v1/numbers/${(await createNumber(h.database.db, alice, { name: unique('gone'), organizationId: fx.org })).id}` }),
    expected: [204, 204, 404, 404, 401, 401, 401],
  },
  { route: 'POST /numbers/{id}/increment', request: fixed((fx) => `/v1/numbers/${fx.number}/increment`, () => ({ by: 1 })), expected: [200, 200, 404, 404, 401, 401, 401] },
];

describe.each(engines)('control-plane authorisation matrix on %s', (driver) => {
  let h: Harness;
  let fx: Fixture;
  const tokens = {} as Record<Role, string | undefined>;

  beforeAll(async () => {
    h = await createHarness(driver);
    const db = h.database.db;
    tokens.owner = await h.mint('alice');
    tokens.member = await h.mint('bob');
    tokens.other = await h.mint('carol');
    tokens.admin = await h.mint('root', { admin: true });
    tokens.none = undefined;
    const expired = await createToken(db, { userId: 'alice' });
    await db.execute(sql`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ${expired.info.id}`);
    tokens.expired = expired.token;
    const revoked = await createToken(db, { userId: 'alice' });
    await revokeToken(db, revoked.info.id);
    tokens.revoked = revoked.token;

    const org = await createOrganization(db, alice, { name: 'Acme' });
    await addMember(db, alice, org.id, { userId: 'bob', role: 'member' });
    await addMember(db, alice, org.id, { userId: 'dave', role: 'member' });
    await createOrganization(db, { userId: 'carol', admin: false, tokenId: '' }, { name: 'Other' });
    const project = await createProject(db, alice, { name: 'P', organizationId: org.id });
    const thread = await createThread(db, alice, { projectId: project.id });
    const message = await createMessage(db, alice, thread.id, { role: 'user', content: 'hello' });
    await putMessageEmbedding(db, alice, message.id, v(1, 0, 0), DIMENSION);
    const issue = await createIssue(db, alice, { title: 'Bug', organizationId: org.id });
    const knowledge = await createKnowledge(db, alice, { title: 'K', organizationId: org.id, embedding: v(1, 0, 0) }, DIMENSION);
    const number = await createNumber(db, alice, { name: 'issues', organizationId: org.id });
    const repo = await linkRepo(db, alice, project.id, { owner: 'acme', name: 'app' });
    await db.execute(sql`INSERT INTO agents (id, slug, name) VALUES (gen_random_uuid(), 'helper', 'Helper')`);
    fx = { org: org.id, project: project.id, thread: thread.id, message: message.id, issue: issue.id, knowledge: knowledge.id, number: number.id, repo: repo.id, ownerTokenId: '' };
  });
  afterAll(async () => h?.close());

  it.each(CASES.map((c) => [c.route, c] as const))('%s', async (_name, c) => {
    const method = c.route.split(' ')[0] as string;
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    for (const [i, role] of ROLES.entries()) {
      const { path, body } = await c.request(fx, h);
      const response = await h.call(method, path, { token: tokens[role], body });
      got[role] = response.status;
      want[role] = c.expected[i] as number;
    }
    expect(got).toEqual(want);
  });

  it('covers every control-plane route in the OpenAPI document', async () => {
    const doc = await h.call('GET', '/openapi.json');
    const routes = new Set<string>();
    for (const [path, item] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) routes.add(`${method.toUpperCase()} ${path}`);
    }
    const tested = new Set(CASES.map((c) => c.route.replace(/ \(.*\)$/, '')));
    const normalise = (r: string) => r.replace(/\{[^}]+\}/g, '{}');
    const testedNormalised = new Set([...tested].map(normalise));
    const untested = [...routes].map((r) => r.replace(' /v1', ' ')).map((r) => r.replace('  ', ' /')).map(normalise).filter((r) => !testedNormalised.has(r));
    expect(untested).toEqual([]);
    expect(doc.body.components.securitySchemes.bearerAuth.scheme).toBe('bearer');
  });
});
