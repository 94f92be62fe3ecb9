/**
 * Every read route over the shared corpus of real events, imported through the project's pipeline
 * (import-file → IngestPipeline → VerifyPool → writeBatch). Expected values are recomputed here in
 * plain JS from the stored corpus events (NIP-25: latest reaction per reactor; NIP-01: newest
 * kind 0; NIP-09 deletions by the same author), independently of the store's derived tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteEncode, npubEncode } from 'nostr-tools/nip19';
import { pino } from 'pino';
import { sql } from 'drizzle-orm';
import type { ApiApp } from '../../src/api/app.js';
import { query } from '../../src/db/client.js';
import { importFile } from '../../src/ingest/import-file.js';
import { IngestPipeline } from '../../src/ingest/pipeline/pipeline.js';
import { VerifyPool } from '../../src/nostr/verify-pool.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { corpusPath, loadCorpus } from '../fixtures/corpus.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { allPages, call, post, testApp, testNormalizeOptions } from './helpers.js';

const tag = (e: NostrEvent, name: string) => e.tags.filter((t) => t[0] === name && typeof t[1] === 'string').map((t) => t[1]!);
const lastTag = (e: NostrEvent, name: string) => tag(e, name).at(-1);

describe.each(engines)('read API over the real-event corpus on %s', (driver) => {
  let database: TestDatabase;
  let app: ApiApp;
  let stored: NostrEvent[];
  /** Ids deleted by a kind 5 of the same author (stored). */
  let deleted: Set<string>;

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    const verifier = await VerifyPool.create({ size: 1 });
    try {
      const pipeline = new IngestPipeline({
        db: database.db,
        verifier,
        normalizeOptions: await testNormalizeOptions(),
        batchSize: 500,
        maxFutureSeconds: 900,
        maxEventBytes: 262_144,
        log: pino({ level: 'silent' }),
      });
      await importFile({ pipeline, source: corpusPath, log: pino({ level: 'silent' }) });
      await pipeline.close();
    } finally {
      await verifier.close();
    }
    const ids = new Set((await query<{ event_id: string }>(database.db, sql`SELECT event_id FROM nostr_events`)).map((r) => r.event_id));
    stored = loadCorpus().filter((e) => ids.has(e.id));
    const byId = new Map(stored.map((e) => [e.id, e]));
    deleted = new Set(
      stored.filter((e) => e.kind === 5).flatMap((d) => tag(d, 'e').filter((id) => byId.get(id)?.pubkey === d.pubkey && byId.get(id)?.kind !== 5)),
    );
    app = testApp(database);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('imports the corpus', () => {
    expect(stored.length).toBeGreaterThan(2000);
  });

  it('GET /v1/feed: only community kind-1 posts qualify (the corpus has no kind 1111; plain notes are not posts)', async () => {
    const expected = stored
      .filter((e) => e.kind === 1 && tag(e, 'a').some((a) => a.startsWith('34550:')) && tag(e, 'e').length === 0 && !deleted.has(e.id))
      .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1))
      .map((e) => e.id);
    const items = await allPages(app, '/v1/feed?limit=10');
    expect(items.map((p) => p.id)).toEqual(expected);
    if (expected.length > 0) {
      const author = stored.find((e) => e.id === expected[0])!.pubkey;
      const mine = await allPages(app, `/v1/authors/${npubEncode(author)}/posts`);
      expect(mine.map((p) => p.id)).toContain(expected[0]);
    }
  });

  it('GET /v1/events/:id serves stored notes by hex and note1, 404 once deleted', async () => {
    const notes = stored.filter((e) => e.kind === 1).slice(0, 40);
    for (const note of notes) {
      const r = await call(app, `/v1/events/${noteEncode(note.id)}`);
      if (deleted.has(note.id)) {
        expect(r.status).toBe(404);
        continue;
      }
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: note.id, pubkey: note.pubkey, content: note.content, sig: note.sig, created_at: note.created_at });
      expect(r.body.tags).toEqual(note.tags);
    }
    for (const id of [...deleted].slice(0, 10)) expect((await call(app, `/v1/events/${id}`)).status).toBe(404);
  });

  it('GET /v1/events/:id/reactions and the event stats agree with a recount of the stored reactions', async () => {
    const latest = new Map<string, NostrEvent>();
    for (const r of stored.filter((e) => e.kind === 7 && !deleted.has(e.id))) {
      const target = lastTag(r, 'e');
      if (!target) continue;
      const key = `${target}|${r.pubkey}`;
      const seen = latest.get(key);
      if (!seen || r.created_at > seen.created_at || (r.created_at === seen.created_at && r.id < seen.id)) latest.set(key, r);
    }
    const expected = new Map<string, { up: number; down: number; total: number }>();
    for (const [key, r] of latest) {
      const target = key.split('|')[0]!;
      const t = expected.get(target) ?? { up: 0, down: 0, total: 0 };
      if (r.content === '+' || r.content === '') t.up++;
      if (r.content === '-') t.down++;
      t.total++;
      expected.set(target, t);
    }
    const present = new Set(stored.filter((e) => !deleted.has(e.id)).map((e) => e.id));
    const targets = [...expected.keys()].filter((t) => present.has(t));
    expect(targets.length).toBeGreaterThan(5);
    for (const target of targets) {
      const r = await call(app, `/v1/events/${target}/reactions`);
      expect(r.status).toBe(200);
      expect({ up: r.body.up, down: r.body.down, total: r.body.total }).toEqual(expected.get(target));
      const event = await call(app, `/v1/events/${target}`);
      expect({ up: event.body.stats.up, down: event.body.stats.down }).toEqual({ up: expected.get(target)!.up, down: expected.get(target)!.down });
    }
  });

  it('GET /v1/events/:id/zaps lists every stored receipt on the event; totals match the stats', async () => {
    const receipts = stored.filter((e) => e.kind === 9735 && !deleted.has(e.id));
    const present = new Set(stored.filter((e) => !deleted.has(e.id)).map((e) => e.id));
    const targets = [...new Set(receipts.map((z) => lastTag(z, 'e')).filter((t): t is string => t !== undefined && present.has(t)))];
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      const r = await call(app, `/v1/events/${target}/zaps`);
      expect(r.status).toBe(200);
      const expectedIds = receipts.filter((z) => lastTag(z, 'e') === target).map((z) => z.id).sort();
      expect(r.body.items.map((z: { receipt_id: string }) => z.receipt_id).sort()).toEqual(expectedIds);
      const valid = r.body.items.filter((z: { validity: number }) => z.validity >= 2);
      expect(r.body.zap_count).toBe(valid.length);
      const event = await call(app, `/v1/events/${target}`);
      expect(event.body.stats.zap_count).toBe(r.body.zap_count);
      expect(event.body.stats.zap_msat).toBe(r.body.zap_msat);
    }
  });

  it('GET /v1/events/:id/replies and /thread: notes have no NIP-22 replies', async () => {
    const note = stored.find((e) => e.kind === 1 && !deleted.has(e.id))!;
    expect((await call(app, `/v1/events/${note.id}/replies`)).body.items).toEqual([]);
    const thread = await call(app, `/v1/events/${note.id}/thread`);
    expect(thread.body).toMatchObject({ items: [], total: 0, truncated: false });
    expect(thread.body.root.id).toBe(note.id);
  });

  it('GET /v1/profiles/:pubkey and POST /v1/profiles/batch give the newest kind 0 of each author', async () => {
    const winner = new Map<string, NostrEvent>();
    for (const p of stored.filter((e) => e.kind === 0 && !deleted.has(e.id))) {
      const w = winner.get(p.pubkey);
      if (!w || p.created_at > w.created_at || (p.created_at === w.created_at && p.id < w.id)) winner.set(p.pubkey, p);
    }
    const pubkeys = [...winner.keys()];
    expect(pubkeys.length).toBeGreaterThan(100);
    for (const pk of pubkeys.slice(0, 30)) {
      const r = await call(app, `/v1/profiles/${npubEncode(pk)}`);
      expect(r.status).toBe(200);
      expect(r.body.event_id).toBe(winner.get(pk)!.id);
      expect(r.body.updated_at).toBe(winner.get(pk)!.created_at);
    }
    const unknown = 'a'.repeat(64);
    const batch = await post(app, '/v1/profiles/batch', { pubkeys: [...pubkeys.slice(0, 499), unknown] });
    expect(batch.status).toBe(200);
    expect(batch.body.profiles.map((p: { pubkey: string }) => p.pubkey)).toEqual(pubkeys.slice(0, 499));
    expect(batch.body.profiles.map((p: { event_id: string }) => p.event_id)).toEqual(pubkeys.slice(0, 499).map((pk) => winner.get(pk)!.id));
    expect(batch.body.missing).toEqual([unknown]);
  });

  it('GET /v1/subclaws and /v1/communities are empty (no kind 1111 or 34550 in the corpus)', async () => {
    expect((await call(app, '/v1/subclaws')).body.items).toEqual([]);
    expect((await call(app, '/v1/communities')).body).toEqual({ items: [], next_cursor: null });
  });
});
