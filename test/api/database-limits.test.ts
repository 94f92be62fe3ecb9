/**
 * Values the database cannot hold are a 400 naming the field, never a 500: U+0000 anywhere (path,
 * query, JSON strings, jsonb keys and values), integers past int4/int8, dates Postgres has no year
 * for, embeddings outside float4, counters pushed past their range, forged control-plane cursors on
 * every list route, and NIP-19 ids that do not hold exactly 32 bytes. Each case once gave a 500 or
 * an empty answer (issue 15); they run on both engines, through the whole app.
 */
import { noteEncode, npubEncode, neventEncode, nprofileEncode } from 'nostr-tools/nip19';
import { bech32 } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_GROUPS } from '../../src/api/routes/index.js';
import { engines } from '../helpers/engines.js';
import { createHarness, DIMENSION, type Harness } from '../control/helpers.js';

const HEX = 'c'.repeat(64);
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A bech32 NIP-19 value whose payload is `bytes` long (nostr-tools decodes any length). */
function shortBech32(prefix: string, bytes: number): string {
  return bech32.encode(prefix, bech32.toWords(new Uint8Array(bytes).fill(7)), 5000);
}

describe.each(engines)('database limits on %s', (driver) => {
  let h: Harness;
  let alice: string;
  let admin: string;
  let thread: string;
  let message: string;
  let number: string;
  let issue: string;
  const fields = (r: { body: any }) => (r.body?.error?.details?.issues ?? []).map((i: { field: string }) => i.field);

  beforeAll(async () => {
    h = await createHarness(driver, {}, ROUTE_GROUPS);
    alice = await h.mint('alice');
    admin = await h.mint('root', { admin: true });
    thread = (await h.call('POST', '/v1/threads', { token: alice, body: {} })).body.id;
    message = (await h.call('POST', `/v1/threads/${thread}/messages`, { token: alice, body: { role: 'user', content: 'hi' } })).body.id;
    number = (await h.call('POST', '/v1/numbers', { token: alice, body: { name: 'n', value: Number.MAX_SAFE_INTEGER - 1 } })).body.id;
    issue = (await h.call('POST', '/v1/issues', { token: alice, body: { title: 't' } })).body.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('U+0000 in a path or query value is a 400 naming where (no token needed)', async () => {
    const path = await h.call('GET', `/v1/communities/34550%3A${HEX}%3Ax%00y`);
    expect(path.status).toBe(400);
    expect(fields(path)).toEqual(['path']);
    const query = await h.call('GET', `/v1/feed?community=${encodeURIComponent(`34550:${HEX}:x`)}%00`);
    expect(query.status).toBe(400);
    expect(fields(query)).toEqual(['query.community']);
  });

  it('U+0000 in JSON text, jsonb values and jsonb keys is a 400 naming the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', `/v1/threads/${thread}/messages`, { content: 'a\u0000b' }, 'json.content'],
      ['POST', '/v1/threads', { metadata: { deep: ['ok', { v: 'x\u0000' }] } }, 'json.metadata.deep.1.v'],
      ['POST', '/v1/threads', { metadata: { 'k\u0000': 1 } }, 'json.metadata.k\\u0000'],
      ['PATCH', `/v1/messages/${message}`, { parts_json: ['\u0000'] }, 'json.parts_json.0'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await h.call(method, path, { token: alice, body });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(fields(r)).toEqual([field]);
    }
  });

  it('integers past their column, dates without a Postgres year, embeddings outside float4: 400 naming the field', async () => {
    const cases: Array<[string, string, unknown, string, string]> = [
      ['POST', `/v1/threads/${thread}/messages`, { prompt_tokens: 3_000_000_000 }, 'json.prompt_tokens', alice],
      ['PATCH', `/v1/messages/${message}`, { total_tokens: 2 ** 31 }, 'json.total_tokens', alice],
      ['POST', '/v1/agents', { slug: 'big', name: 'B', sort_order: 3_000_000_000 }, 'json.sort_order', admin],
      ['PATCH', `/v1/issues/${issue}`, { due_date: '0000-01-01' }, 'json.due_date', alice],
      ['PUT', `/v1/messages/${message}/embedding`, { embedding: [1e39, 0, 0] }, 'json.embedding.0', alice],
      ['PUT', `/v1/messages/${message}/embedding`, { embedding: [0, 1e-50, 0] }, 'json.embedding.1', alice],
      ['POST', '/v1/messages/search', { embedding: [0, 0, -1e39] }, 'json.embedding.2', alice],
      ['PATCH', '/v1/admin/users/alice', { credits: 1e20 }, 'json.credits', admin],
      ['POST', '/v1/tokens', { user_id: 'x', expires_at: '0000-01-01T00:00:00Z' }, 'json.expires_at', admin],
    ];
    for (const [method, path, body, field, token] of cases) {
      const r = await h.call(method, path, { token, body });
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(fields(r)).toContain(field);
    }
    // The edges themselves are accepted.
    expect((await h.call('PATCH', `/v1/issues/${issue}`, { token: alice, body: { due_date: '0001-01-01' } })).status).toBe(200);
    expect((await h.call('PUT', `/v1/messages/${message}/embedding`, { token: alice, body: { embedding: [3.4e38, 1e-40, 0] } })).status).toBe(200);
    expect((await h.call('PATCH', `/v1/messages/${message}`, { token: alice, body: { total_tokens: 2 ** 31 - 1 } })).status).toBe(200);
    expect(DIMENSION).toBe(3);
  });

  it('a counter pushed past its range is a 400 naming json.by, and keeps its value', async () => {
    const r = await h.call('POST', `/v1/numbers/${number}/increment`, { token: alice, body: { by: 2 } });
    expect(r.status).toBe(400);
    expect(fields(r)).toEqual(['json.by']);
    const again = await h.call('POST', `/v1/numbers/${number}/increment`, { token: alice, body: { by: Number.MAX_SAFE_INTEGER } });
    expect(again.status).toBe(400);
    expect((await h.call('GET', `/v1/numbers/${number}`, { token: alice })).body.value).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect((await h.call('POST', `/v1/numbers/${number}/increment`, { token: alice, body: { by: 1 } })).body.value).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('forged cursors on every control-plane list route are a 400 naming query.cursor', async () => {
    const org = (await h.call('POST', '/v1/organizations', { token: alice, body: { name: 'O' } })).body.id;
    const project = (await h.call('POST', '/v1/projects', { token: alice, body: { name: 'P' } })).body.id;
    const lists: Array<[string, string]> = [
      ['/v1/tokens', alice],
      ['/v1/admin/users', admin],
      ['/v1/organizations', alice],
      [`/v1/organizations/${org}/members`, alice],
      ['/v1/projects', alice],
      [`/v1/projects/${project}/repos`, alice],
      ['/v1/threads', alice],
      [`/v1/threads/${thread}/messages`, alice],
      ['/v1/issues', alice],
      [`/v1/issues/${issue}/threads`, alice],
      ['/v1/knowledge', alice],
      ['/v1/agents', alice],
      ['/v1/numbers', alice],
    ];
    const forged = [
      cursorOf(['not-a-uuid']),
      cursorOf([12345]),
      cursorOf(['x\u0000']),
      cursorOf(['2026-01-01T00:00:00Z', 'not-a-uuid']),
      cursorOf(['0000-01-01T00:00:00Z', '01890000-0000-7000-8000-000000000000']),
      cursorOf([3_000_000_000, '01890000-0000-7000-8000-000000000000']),
      cursorOf([1.5, '01890000-0000-7000-8000-000000000000']),
      cursorOf(['5', '01890000-0000-7000-8000-000000000000']),
      cursorOf([{}, []]),
    ];
    for (const [path, token] of lists) {
      for (const cursor of forged) {
        const r = await h.call('GET', `${path}?cursor=${cursor}`, { token });
        expect(r.status, `${path} ${Buffer.from(cursor, 'base64url').toString()}`).toBe(400);
        expect(fields(r)).toEqual(['query.cursor']);
      }
    }
  });

  it('NIP-19 ids and keys must hold exactly 32 bytes', async () => {
    const short = [shortBech32('note', 5), shortBech32('npub', 10), shortBech32('note', 33)];
    expect((await h.call('GET', `/v1/events/${short[0]}`)).status).toBe(400);
    expect((await h.call('GET', `/v1/profiles/${short[1]}`)).status).toBe(400);
    expect((await h.call('GET', `/v1/events/${short[2]}`)).status).toBe(400);
    expect((await h.call('GET', `/v1/feed?author=${short[1]}`)).status).toBe(400);
    // Well-formed ones still work (404: nothing stored).
    expect((await h.call('GET', `/v1/events/${noteEncode(HEX)}`)).status).toBe(404);
    expect((await h.call('GET', `/v1/events/${neventEncode({ id: HEX })}`)).status).toBe(404);
    expect((await h.call('GET', `/v1/profiles/${npubEncode(HEX)}`)).status).toBe(404);
    expect((await h.call('GET', `/v1/profiles/${nprofileEncode({ pubkey: HEX })}`)).status).toBe(404);
  });
});
