/**
 * NIP-77 in backfill, through the real connection + pipeline + store, against the test relay with
 * negentropy turned on (its responder is test/helpers/negentropy-responder.ts):
 * - a range reconciled against what is stored: only the missing ids are fetched, the range covered;
 * - NIP-11 decides before any probe: a relay whose document omits 77 is never sent NEG-OPEN; one
 *   without a document is probed while paging runs (its first NEG-MSG stops the paging);
 * - a range too large to reconcile at once is paged, and its dense second reconciled;
 * - a relay answering NEG-ERR, or NOTICE (no NIP-77), is paged and remembered as not supporting it;
 * - malformed NEG-MSG frames are counted by reason and end the session cleanly.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { query } from '../../../src/db/client.js';
import { backfill, type BackfillOptions } from '../../../src/ingest/coverage/backfill.js';
import { nip77Knowledge } from '../../../src/ingest/coverage/negentropy.js';
import type { IngestPipeline } from '../../../src/ingest/pipeline/pipeline.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { createLogger } from '../../../src/log.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import { loadCoverage, loadRelayLearned, mergeRelayLearned } from '../../../src/store/ingest-state.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { startHostileRelay, type HostileRelay } from '../../helpers/hostile-relay.js';
import { note, pipelineFor, waitFor } from '../../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const T = 1_760_000_000;

describe.each(engines)('NIP-77 backfill on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  let relay: TestRelay | null = null;
  let hostile: HostileRelay | null = null;
  let connection: RelayConnection | null = null;
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterAll(async () => {
    await verifier?.close();
  });
  afterEach(async () => {
    await connection?.stop();
    await relay?.close();
    await hostile?.close();
    await database?.destroy();
    connection = null;
    relay = null;
    hostile = null;
  });

  const pipeline = () => pipelineFor(database, verifier, log);

  /** Stores events locally as if an earlier ingest had received them. */
  async function preStore(events: readonly NostrEvent[]): Promise<void> {
    const p = pipeline();
    for (const event of events) await p.submit({ value: event, relay: null });
    await p.flush();
    expect(p.counts.accepted).toBe(events.length);
  }

  function connect(url: string): RelayConnection {
    connection = new RelayConnection({ url, log, maxFrameBytes: 524_288 });
    connection.start();
    return connection;
  }

  async function storedIds(): Promise<Set<string>> {
    return new Set((await query<{ event_id: string }>(database.db, sql`SELECT event_id FROM nostr_events`)).map((r) => r.event_id));
  }

  const idsAsked = (r: TestRelay) => r.requests.flatMap((filters) => filters.flatMap((f) => f.ids ?? []));
  const learnedNip77 = async (url: string) => nip77Knowledge((await loadRelayLearned(database.db, url))?.learned);
  const run = (url: string, c: RelayConnection, p: IngestPipeline, extra: Partial<BackfillOptions> = {}) =>
    backfill(
      { connection: c, relay: url, scope: 'comments', filter: { kinds: [1111], '#K': ['web'] } },
      { db: database.db, pipeline: p, log, since: T - 1000, until: T + 10, pageLimit: 50, ...extra },
    );

  it('reconciles the range with what is stored and fetches only the missing ids (NIP-11 lists 77)', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5, nip77: {} });
    // 12 comments in one second (one kind: paging alone cannot list them past 5), 20 spread below.
    const dense = Array.from({ length: 12 }, (_, i) => note(i, T));
    const spread = Array.from({ length: 20 }, (_, i) => note(100 + i, T - 900 + i * 40));
    const all = [...dense, ...spread];
    await relay.publish(all, { timeoutMs: 60_000 });
    const local = all.filter((_, i) => i % 2 === 0);
    const missing = all.filter((_, i) => i % 2 === 1);
    await preStore(local);

    const c = connect(relay.url);
    const p = pipeline();
    const result = await run(relay.url, c, p);

    expect(await storedIds()).toEqual(new Set(all.map((e) => e.id)));
    expect(result.incompleteSeconds).toEqual([]);
    expect(result.pages).toBe(0); // nothing paged
    expect(result.negentropy).toMatchObject({ reconciled: 1, missing: missing.length, fallback: null });
    // Only missing ids were asked for; the 5-event page limit split them into 16, 11, 6, 1 ids asked.
    const asked = idsAsked(relay);
    expect(new Set(asked)).toEqual(new Set(missing.map((e) => e.id)));
    expect(result.negentropy.requests).toBe(4);
    expect(p.counts).toMatchObject({ received: missing.length, accepted: missing.length, duplicate: 0 });
    expect(relay.negentropyOpens).toEqual([{ kinds: [1111], '#K': ['web'], since: T - 1000, until: T + 10 }]);
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[T - 1000, T + 10]]);
    expect(await learnedNip77(relay.url)).toMatchObject({ supported: true, error: null });
  });

  it('pages a range with too many stored events for one reconciliation, and reconciles its dense second', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5, nip77: {} });
    const dense = Array.from({ length: 12 }, (_, i) => note(i, T));
    const spread = Array.from({ length: 20 }, (_, i) => note(100 + i, T - 900 + i * 40));
    await relay.publish([...dense, ...spread], { timeoutMs: 60_000 });
    const local = [...dense.slice(0, 6), ...spread.slice(0, 10)];
    await preStore(local);

    const c = connect(relay.url);
    const result = await run(relay.url, c, pipeline(), { negentropy: { maxLocalIds: 12 } });

    expect(await storedIds()).toEqual(new Set([...dense, ...spread].map((e) => e.id)));
    // Without NIP-77 this one-kind second would be reported incomplete.
    expect(result.incompleteSeconds).toEqual([]);
    expect(result.pages).toBeGreaterThan(0);
    expect(result.negentropy.reconciled).toBe(1);
    expect(result.negentropy.fallback).toMatch(/more than 12 stored events/);
    expect(relay.negentropyOpens.map((f) => [f.since, f.until])).toEqual([[T, T]]);
    const asked = new Set(idsAsked(relay));
    const denseIds = new Set(dense.map((e) => e.id));
    expect([...asked].every((id) => denseIds.has(id))).toBe(true);
    expect(local.some((e) => asked.has(e.id))).toBe(false);
    expect(asked.size).toBe(result.negentropy.missing);
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[T - 1000, T + 10]]);
  });

  it('falls back to paging on NEG-ERR, records the relay as not supporting NIP-77, and does not ask again', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5, nip77: { maxRecords: 3 } });
    // A dense second of two kinds (the kind split lists it) and some spread events.
    const dense = [...[0, 1, 2, 3].map((i) => note(i, T)), ...[4, 5, 6, 7].map((i) => note(i, T, 7))];
    const spread = Array.from({ length: 10 }, (_, i) => note(100 + i, T - 900 + i * 80));
    const later = note(200, T + 300);
    await relay.publish([...dense, ...spread, later], { timeoutMs: 60_000 });

    const c = connect(relay.url);
    const filter = { kinds: [1111, 7] };
    const first = await backfill(
      { connection: c, relay: relay.url, scope: 'all', filter },
      { db: database.db, pipeline: pipeline(), log, since: T - 1000, until: T + 10, pageLimit: 50 },
    );
    expect(first.negentropy).toMatchObject({ reconciled: 0, fallback: 'blocked: too many records' });
    expect(first.incompleteSeconds).toEqual([]);
    expect(await storedIds()).toEqual(new Set([...dense, ...spread].map((e) => e.id)));
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'all' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[T - 1000, T + 10]]);
    expect(await learnedNip77(relay.url)).toMatchObject({ supported: false, error: 'blocked: too many records' });

    // The next backfill pages straight away: no second NEG-OPEN.
    const second = await backfill(
      { connection: c, relay: relay.url, scope: 'all', filter },
      { db: database.db, pipeline: pipeline(), log, since: T + 11, until: T + 600, pageLimit: 50 },
    );
    expect(second.negentropy.fallback).toMatch(/relay refused NIP-77: blocked: too many records/);
    expect(relay.negentropyOpens).toHaveLength(1);
    expect((await storedIds()).has(later.id)).toBe(true);
  });

  it('pages a relay whose NIP-11 omits 77 without any NEG-OPEN, and records no verdict', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5 });
    const events = Array.from({ length: 12 }, (_, i) => note(i, T - 500 + i * 30));
    await relay.publish(events, { timeoutMs: 60_000 });
    const result = await run(relay.url, connect(relay.url), pipeline());
    expect(relay.negentropyOpens).toEqual([]);
    expect(result.negentropy).toMatchObject({ reconciled: 0, fallback: 'nip11 omits 77' });
    expect(await storedIds()).toEqual(new Set(events.map((e) => e.id)));
    expect(await learnedNip77(relay.url)).toBeNull();
  });

  it('probes a relay without NIP-11 while paging: a NOTICE refusal is recorded, paging completes the range', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5, nip11: false });
    const events = Array.from({ length: 12 }, (_, i) => note(i, T - 500 + i * 30));
    await relay.publish(events, { timeoutMs: 60_000 });
    const c = connect(relay.url);
    const result = await run(relay.url, c, pipeline());
    expect(relay.negentropyOpens).toHaveLength(1);
    expect(result.negentropy.reconciled).toBe(0);
    expect(result.negentropy.fallback).toMatch(/^notice: /);
    expect(result.pages).toBeGreaterThan(0);
    expect(await storedIds()).toEqual(new Set(events.map((e) => e.id)));
    expect((await learnedNip77(relay.url))?.supported).toBe(false);
    expect(c.state().handlerErrors).toBe(0);
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[T - 1000, T + 10]]);
  });

  it('probes a relay without NIP-11 that has NIP-77: its first NEG-MSG stops the paging and reconciliation completes', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5, nip11: false, nip77: {} });
    // A dense second paging alone could not list (12 > 5, one kind): only reconciliation completes it.
    const dense = Array.from({ length: 12 }, (_, i) => note(i, T));
    const spread = Array.from({ length: 200 }, (_, i) => note(100 + i, T - 990 + i * 4));
    await relay.publish([...dense, ...spread], { timeoutMs: 60_000 });
    const result = await run(relay.url, connect(relay.url), pipeline());
    expect(result.negentropy).toMatchObject({ reconciled: 1, fallback: null });
    expect(result.incompleteSeconds).toEqual([]);
    // Paging was stopped early: far fewer pages than the 41 paging alone needs.
    expect(result.pages).toBeLessThan(10);
    expect(await storedIds()).toEqual(new Set([...dense, ...spread].map((e) => e.id)));
    expect(await learnedNip77(relay.url)).toMatchObject({ supported: true });
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[T - 1000, T + 10]]);
  });

  it('pages, but does not record a refusal, when a relay that reconciled before answers NEG-OPEN with a NOTICE', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5 });
    const events = Array.from({ length: 12 }, (_, i) => note(i, T - 500 + i * 30));
    await relay.publish(events, { timeoutMs: 60_000 });
    // Stored from an earlier run: the relay reconciled then. (A NOTICE names no subscription: this
    // one may be about anything, e.g. a rate warning, so it is not taken as "no NIP-77".)
    const earlier = { supported: true, checkedAt: Math.floor(Date.now() / 1000) - 3600, error: null };
    await mergeRelayLearned(database.db, relay.url, { nip77: earlier });
    const c = connect(relay.url);
    const result = await run(relay.url, c, pipeline());
    expect(relay.negentropyOpens).toHaveLength(1);
    expect(result.negentropy.reconciled).toBe(0);
    expect(result.negentropy.fallback).toMatch(/^notice: /);
    expect(await storedIds()).toEqual(new Set(events.map((e) => e.id)));
    expect(await learnedNip77(relay.url)).toEqual(earlier);
  });

  it('counts malformed NEG-MSG frames by reason, ends the session on an undecodable one, and pages', async () => {
    database = await createTestDatabase(driver);
    const negCloses: string[] = [];
    hostile = await startHostileRelay(async (peer) => {
      for (;;) {
        const frame = (await peer.nextFrame()) as unknown[];
        const [type, id] = frame as [string, string];
        if (type === 'NEG-OPEN') {
          await peer.send(['NEG-MSG', id]); // bad_neg_frame: no payload
          await peer.send(['NEG-MSG', id, 42]); // bad_neg_frame: not a string
          await peer.send(['NEG-MSG', id, 'not hex!']); // bad_neg_frame: not hex
          await peer.send(['NEG-MSG', 'somebody-else', '61']); // unknown_subscription
          await peer.send(['NEG-MSG', id, '61ff00']); // hex, but a truncated negentropy message
        } else if (type === 'NEG-CLOSE') {
          negCloses.push(id);
        } else if (type === 'REQ') {
          await peer.send(['EOSE', id]); // an empty relay: paging proves the range at once
        }
      }
    });
    const c = connect(hostile.url);
    const result = await run(hostile.url, c, pipeline());

    expect(result.negentropy.fallback).toMatch(/undecodable negentropy message/);
    const rejects = Object.fromEntries(Object.entries(c.state().rejects).filter(([, n]) => n > 0));
    expect(rejects).toEqual({ bad_neg_frame: 3, unknown_subscription: 1, bad_neg_payload: 1 });
    expect(c.state()).toMatchObject({ status: 'connected', handlerErrors: 0 });
    // Paging (started with the probe) may end first: the NEG-CLOSE is then still on its way.
    await waitFor(() => negCloses.length === 1, 'NEG-CLOSE');
    expect(negCloses).toHaveLength(1);
    expect((await learnedNip77(hostile.url))?.supported).toBe(false);
    const coverage = await loadCoverage(database.db, { relay: hostile.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[T - 1000, T + 10]]);
    expect(hostile.scriptErrors).toEqual([]);
  });
});
