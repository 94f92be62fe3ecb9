/**
 * Tokens (hashing, lazy users, refusal, last_used_at throttling, failed-auth rate limiting, logs
 * without the token), vector search in the engine's mode, and bad bodies naming the field.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { controlRoutes } from '../../src/api/routes/control/index.js';
import { query } from '../../src/db/client.js';
import { findUser } from '../../src/control/users.js';
import { TOKEN_PATTERN, hashToken } from '../../src/control/tokens.js';
import { parseExpiry } from '../../src/commands/tokens.js';
import { engines } from '../helpers/engines.js';
import { createHarness, type Harness } from './helpers.js';

describe.each(engines)('tokens, users and vector search on %s', (driver) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(driver, { AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_SECONDS: '600' });
  });
  afterAll(async () => h?.close());

  it('creates a user lazily on the first token, and on the first organization', async () => {
    expect(await findUser(h.database.db, 'lazy-1')).toBeNull();
    const token = await h.mint('lazy-1');
    expect(token).toMatch(TOKEN_PATTERN);
    expect((await findUser(h.database.db, 'lazy-1'))?.plan).toBe('free');
    // A member added by external id exists from then on.
    const org = await h.call('POST', '/v1/organizations', { token, body: { name: 'Lazy' } });
    expect(org.status).toBe(201);
    expect(await findUser(h.database.db, 'lazy-2')).toBeNull();
    const added = await h.call('POST', `/v1/organizations/${org.body.id}/members`, { token, body: { user_id: 'lazy-2' } });
    expect(added.status).toBe(201);
    expect(await findUser(h.database.db, 'lazy-2')).not.toBeNull();
  });

  it('never stores the raw token: no table holds it, only its SHA-256', async () => {
    const admin = await h.mint('root', { admin: true });
    const minted = await h.call('POST', '/v1/tokens', { token: admin, body: { user_id: 'dumped', name: 'ci' } });
    expect(minted.status).toBe(201);
    const raw = minted.body.token as string;
    expect(raw).toMatch(TOKEN_PATTERN);
    expect(minted.body.is_admin).toBe(false);
    expect(JSON.stringify(minted.body)).not.toContain(hashToken(raw));
    // Use it once, so every code path that writes has run.
    expect((await h.call('GET', '/v1/me', { token: raw })).status).toBe(200);
    const tables = await query<{ table_name: string }>(
      h.database.db,
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    let dump = '';
    for (const { table_name } of tables) {
      const rows = await query<{ row: string }>(h.database.db, sql`SELECT t::text AS row FROM ${sql.identifier(table_name)} t`);
      dump += rows.map((r) => r.row).join('\n');
    }
    expect(dump).toContain(hashToken(raw));
    expect(dump).not.toContain(raw);
    expect(dump).not.toContain(raw.slice(3)); // nor its random part without the prefix
    // Lists never show hash or value.
    const list = await h.call('GET', '/v1/tokens', { token: raw });
    expect(JSON.stringify(list.body)).not.toContain(hashToken(raw));
    expect(list.body.items[0].token_prefix).toBe(raw.slice(0, 9));
  });

  it('refuses expired and revoked tokens, and a user revokes only their own', async () => {
    const mine = await h.mint('revoker');
    const other = await h.mint('bystander');
    const listed = await h.call('GET', '/v1/tokens', { token: other });
    const otherId = listed.body.items[0].id as string;
    expect((await h.call('DELETE', `/v1/tokens/${otherId}`, { token: mine })).status).toBe(404);
    const own = (await h.call('GET', '/v1/tokens', { token: mine })).body.items[0].id as string;
    const revoked = await h.call('DELETE', `/v1/tokens/${own}`, { token: mine });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    expect((await h.call('GET', '/v1/me', { token: mine })).status).toBe(401);
    const soon = await h.mint('expiring', { expiresAt: new Date(Date.now() + 60_000) });
    expect((await h.call('GET', '/v1/me', { token: soon })).status).toBe(200);
    await h.database.db.execute(sql`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE user_id = 'expiring'`);
    const refused = await h.call('GET', '/v1/me', { token: soon });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe('token expired');
  });

  it('writes last_used_at once, not on every request', async () => {
    const token = await h.mint('busy');
    const lastUsed = async () =>
      (await query<{ t: string | null }>(h.database.db, sql`SELECT last_used_at::text AS t FROM api_tokens WHERE token_hash = ${hashToken(token)}`))[0]?.t;
    expect(await lastUsed()).toBeNull();
    await h.call('GET', '/v1/me', { token });
    const first = await lastUsed();
    expect(first).not.toBeNull();
    for (let i = 0; i < 5; i++) await h.call('GET', '/v1/me', { token });
    expect(await lastUsed()).toBe(first);
  });

  it('rate-limits failed authentication per client address and logs failures without the token', async () => {
    const good = await h.mint('limited');
    const bogus = `nc_${'A'.repeat(43)}`;
    for (let i = 0; i < 3; i++) expect((await h.call('GET', '/v1/me', { token: bogus, address: '198.51.100.7' })).status).toBe(401);
    const blocked = await h.call('GET', '/v1/me', { token: bogus, address: '198.51.100.7' });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('rate_limited');
    // A valid token from the same address is never refused (issue 15); another address is unaffected.
    expect((await h.call('GET', '/v1/me', { token: good, address: '198.51.100.7' })).status).toBe(200);
    expect((await h.call('GET', '/v1/me', { token: bogus, address: '198.51.100.8' })).status).toBe(401);
    const failures = h.logs.filter((l) => l.includes('auth failed'));
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.some((l) => l.includes('198.51.100.7'))).toBe(true);
    expect(h.logs.join('\n')).not.toContain(bogus);
    expect(h.logs.join('\n')).not.toContain(good);
  });

  it('ranks knowledge and messages by cosine similarity in this engine’s mode', async () => {
    expect(h.vectorMode).toBe(driver === 'pglite' ? 'pgvector' : 'exact');
    const token = await h.mint('searcher');
    const stranger = await h.mint('stranger');
    const vectors: Record<string, number[]> = { east: [1, 0, 0], northeast: [1, 1, 0], north: [0, 1, 0], up: [0, 0, 1], west: [-1, 0, 0] };
    for (const [title, embedding] of Object.entries(vectors)) {
      expect((await h.call('POST', '/v1/knowledge', { token, body: { title, embedding } })).status).toBe(201);
    }
    await h.call('POST', '/v1/knowledge', { token, body: { title: 'no embedding' } });
    await h.call('POST', '/v1/knowledge', { token: stranger, body: { title: 'hidden', embedding: [1, 0, 0] } });
    const result = await h.call('POST', '/v1/knowledge/search', { token, body: { embedding: [0.9, 0.2, 0], k: 4 } });
    expect(result.status).toBe(200);
    expect(result.body.mode).toBe(h.vectorMode);
    expect(result.body.items.map((i: { title: string }) => i.title)).toEqual(['east', 'northeast', 'north', 'up']);
    expect(result.body.items[0].score).toBeCloseTo(0.9 / Math.hypot(0.9, 0.2), 4);
    expect(result.body.items[3].score).toBeCloseTo(0, 4);

    const thread = await h.call('POST', '/v1/threads', { token, body: {} });
    const ids: Record<string, string> = {};
    for (const [content, embedding] of Object.entries(vectors)) {
      const message = await h.call('POST', `/v1/threads/${thread.body.id}/messages`, { token, body: { role: 'user', content } });
      ids[content] = message.body.id;
      expect((await h.call('PUT', `/v1/messages/${message.body.id}/embedding`, { token, body: { embedding } })).status).toBe(200);
    }
    const messages = await h.call('POST', '/v1/messages/search', { token, body: { embedding: [0, 0.1, 1], k: 2, thread_id: thread.body.id } });
    expect(messages.status).toBe(200);
    expect(messages.body.items.map((i: { content: string }) => i.content)).toEqual(['up', 'north']);
    // The stranger reaches none of them.
    const none = await h.call('POST', '/v1/messages/search', { token: stranger, body: { embedding: [0, 0.1, 1] } });
    expect(none.body.items).toEqual([]);
  });

  it('refuses embeddings of the wrong dimension with a 400 naming the field', async () => {
    const token = await h.mint('dims');
    for (const [method, path] of [
      ['POST', '/v1/knowledge'],
      ['POST', '/v1/knowledge/search'],
      ['POST', '/v1/messages/search'],
    ] as const) {
      const body = path === '/v1/knowledge' ? { title: 't', embedding: [1, 2] } : { embedding: [1, 2, 3, 4] };
      const response = await h.call(method, path, { token, body });
      expect(response.status, path).toBe(400);
      expect(response.body.error.details.issues[0].field).toBe('json.embedding');
    }
  });

  it('gives 400 naming the field for bad bodies, params and cursors', async () => {
    const token = await h.mint('sloppy');
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/v1/organizations', {}, 'json.name'],
      ['POST', '/v1/projects', { name: 5 }, 'json.name'],
      ['POST', '/v1/threads/00000000-0000-7000-8000-000000000000/messages', { role: 'robot' }, 'json.role'],
      ['POST', '/v1/numbers', { name: 'n', value: 'ten' }, 'json.value'],
      ['POST', '/v1/issues', { title: 'x', due_date: 'someday' }, 'json.due_date'],
      ['PATCH', '/v1/me', { credits: 1_000_000 }, 'json'],
      ['GET', '/v1/projects/not-a-uuid', undefined, 'param.id'],
      ['GET', '/v1/projects?limit=0', undefined, 'query.limit'],
      ['GET', '/v1/projects?cursor=garbage', undefined, 'query.cursor'],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await h.call(method, path, { token, body });
      expect(response.status, `${method} ${path}`).toBe(400);
      expect(response.body.error.code).toBe('bad_request');
      expect(response.body.error.details.issues[0].field, `${method} ${path}`).toBe(field);
    }
    const malformed = await h.call('POST', '/v1/organizations', { token, body: '{"name": ' });
    expect(malformed.status).toBe(400);
  });

  it('pages every list with an opaque cursor, and increments numbers atomically', async () => {
    const token = await h.mint('pager');
    for (let i = 0; i < 5; i++) await h.call('POST', '/v1/projects', { token, body: { name: `p${i}` } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await h.call('GET', `/v1/projects?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token });
      seen.push(...page.body.items.map((p: { name: string }) => p.name));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['p4', 'p3', 'p2', 'p1', 'p0']);

    const counter = await h.call('POST', '/v1/numbers', { token, body: { name: 'seq' } });
    await Promise.all(Array.from({ length: 10 }, () => h.call('POST', `/v1/numbers/${counter.body.id}/increment`, { token, body: {} })));
    expect((await h.call('GET', `/v1/numbers/${counter.body.id}`, { token })).body.value).toBe(10);
    expect((await h.call('POST', '/v1/numbers', { token, body: { name: 'seq' } })).status).toBe(409);
  });

  it('never returns github_* fields and keeps an organization’s last owner', async () => {
    const token = await h.mint('gh');
    await h.database.db.execute(sql`UPDATE users SET github_access_token_enc = 'secret-enc' WHERE user_id = 'gh'`);
    const me = await h.call('GET', '/v1/me', { token });
    expect(JSON.stringify(me.body)).not.toContain('github');
    const org = await h.call('POST', '/v1/organizations', { token, body: { name: 'Solo' } });
    expect((await h.call('PATCH', `/v1/organizations/${org.body.id}/members/gh`, { token, body: { role: 'member' } })).status).toBe(409);
    expect((await h.call('DELETE', `/v1/organizations/${org.body.id}/members/gh`, { token })).status).toBe(409);
  });

  it('reports the vector mode in /health', async () => {
    const app = createApp(h.deps, [controlRoutes]);
    const health = await app.request('/health');
    const body = (await health.json()) as { vector: { mode: string; dimension: number } };
    expect(body.vector).toEqual({ mode: h.vectorMode, dimension: 3 });
  });
});

describe('token CLI expiry parsing', () => {
  it('takes durations and ISO dates, and refuses the rest', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseExpiry('30d', now).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseExpiry('12h', now).toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(parseExpiry('2027-02-03T04:05:06Z', now).toISOString()).toBe('2027-02-03T04:05:06.000Z');
    expect(() => parseExpiry('tomorrow', now)).toThrow(/--expires/);
    expect(() => parseExpiry('2020-01-01', now)).toThrow(/past/);
  });
});
