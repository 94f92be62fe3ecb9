/**
 * Bad input from relays, and backfill paging, through the real connection + pipeline + store:
 * - a hostile relay sending >= 10,000 malformed frames around good events: no crash, every frame
 *   counted by reason, every good event stored;
 * - backfill over a real relay whose page limit is smaller than a run of equal created_at.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { query } from '../../../src/db/client.js';
import { backfill } from '../../../src/ingest/coverage/backfill.js';
import { IngestDaemon } from '../../../src/ingest/fleet/daemon.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { parseRelaySet } from '../../../src/ingest/fleet/relay-set.js';
import { loadCoverage } from '../../../src/store/ingest-state.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { createLogger } from '../../../src/log.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { startHostileRelay, type HostileRelay } from '../../helpers/hostile-relay.js';
import { note, pipelineFor } from '../../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

async function count(database: TestDatabase): Promise<number> {
  const rows = await query<{ n: string | number }>(database.db, sql`SELECT count(*) AS n FROM nostr_events`);
  return Number(rows[0]?.n);
}

/** `frame` as bytes with the first `marker` in it followed by two bytes that are never UTF-8. */
function invalidUtf8(frame: string, marker: string): Buffer {
  const at = frame.indexOf(marker) + marker.length;
  return Buffer.concat([Buffer.from(frame.slice(0, at)), Buffer.from([0xff, 0xfe]), Buffer.from(frame.slice(at))]);
}

describe.each(engines)('hostile relay on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  let hostile: HostileRelay | null = null;
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterAll(async () => {
    await verifier?.close();
  });
  afterEach(async () => {
    await hostile?.close();
    await database?.destroy();
  });

  it('survives >= 10,000 malformed frames, counts each by reason, and stores the good events', async () => {
    database = await createTestDatabase(driver);
    const now = Math.floor(Date.now() / 1000);
    const good = Array.from({ length: 50 }, (_, i) => note(i, now - 100 + i));
    const template = good[0]!;
    const perKind = 1000;
    // Each malformed kind, and where it is counted: the connection (frame level) or the pipeline.
    const malformed: Array<{ reason: string; layer: 'frame' | 'pipeline'; frame: (sub: string, i: number) => unknown }> = [
      { reason: 'bad_json', layer: 'frame', frame: () => '["EVENT", "x", {' },
      { reason: 'not_array', layer: 'frame', frame: () => '{"EVENT": 1}' },
      { reason: 'empty_array', layer: 'frame', frame: () => '[]' },
      { reason: 'unknown_type', layer: 'frame', frame: () => ['HELLO', 'world'] },
      { reason: 'bad_event_frame', layer: 'frame', frame: (sub) => ['EVENT', sub, 'not an object'] },
      { reason: 'unknown_subscription', layer: 'frame', frame: (_s, i) => ['EVENT', `nobody-${i}`, template] },
      { reason: 'frame_too_large', layer: 'frame', frame: (sub) => ['EVENT', sub, { ...template, content: 'x'.repeat(600_000) }] },
      { reason: 'bad_sig', layer: 'pipeline', frame: (sub, i) => ['EVENT', sub, { ...note(10_000 + i, now - 50), sig: 'f'.repeat(128) }] },
      { reason: 'bad_id', layer: 'pipeline', frame: (sub, i) => ['EVENT', sub, { ...note(20_000 + i, now - 50), content: 'tampered' }] },
      { reason: 'bad_kind', layer: 'pipeline', frame: (sub) => ['EVENT', sub, { ...template, kind: 'one' }] },
      { reason: 'too_large', layer: 'pipeline', frame: (sub) => ['EVENT', sub, { ...template, content: 'y'.repeat(10_000) }] },
      // Invalid UTF-8 in a text frame: decoded with replacement characters, so its id no longer
      // matches (a WebSocket client that validates would drop the whole connection instead).
      { reason: 'bad_id', layer: 'pipeline', frame: (sub, i) => invalidUtf8(JSON.stringify(['EVENT', sub, note(30_000 + i, now - 50)]), `event ${30_000 + i}`) },
    ];
    hostile = await startHostileRelay(async (peer) => {
      const [, sub] = await peer.nextRequest();
      const frames: unknown[] = [];
      let g = 0;
      for (let i = 0; i < perKind; i++) {
        for (const m of malformed) frames.push(m.frame(sub, i));
        if (i % 20 === 0 && g < good.length) frames.push(['EVENT', sub, good[g++]]);
      }
      while (g < good.length) frames.push(['EVENT', sub, good[g++]]);
      frames.push(['EOSE', sub]);
      await peer.sendAll(frames as never[], 200);
    });
    const pipeline = pipelineFor(database, verifier, log);
    const daemon = new IngestDaemon({
      db: database.db,
      pipeline,
      relaySet: parseRelaySet({ primaries: [hostile.url], scopes: { comments: { filter: { kinds: [1111] } } } }, 'test'),
      log,
      openLockSession: () => database.session(),
      connect: (url) => new RelayConnection({ url, log, maxFrameBytes: 524_288 }),
      initialLookbackSeconds: 3600,
      tickMs: 100,
    });
    await daemon.start();
    try {
      const deadline = Date.now() + 90_000;
      // EOSE is the script's last frame: once it is in, every frame has been received.
      while ((daemon.health().relays[0]?.lastEoseAt ?? null) === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await pipeline.flush();
      while ((await count(database)) < good.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await count(database)).toBe(good.length);
      const relay = daemon.health().relays[0]!;
      const frameRejects = Object.fromEntries(Object.entries(relay.rejects).filter(([, n]) => n > 0));
      const expectedFrames = Object.fromEntries(malformed.filter((m) => m.layer === 'frame').map((m) => [m.reason, perKind]));
      expect(frameRejects).toEqual(expectedFrames);
      const expectedPipeline: Record<string, number> = {};
      for (const m of malformed) if (m.layer === 'pipeline') expectedPipeline[m.reason] = (expectedPipeline[m.reason] ?? 0) + perKind;
      expect(pipeline.counts.invalid).toEqual(expectedPipeline);
      expect(malformed.length * perKind).toBeGreaterThanOrEqual(10_000);
      expect(hostile.scriptErrors).toEqual([]);
    } finally {
      await daemon.stop();
    }
    // Over 10,000 frames through the real daemon: give a loaded 2-core CI machine room.
  }, 240_000);
});

describe.each(engines)('backfill on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  let relay: TestRelay | null = null;
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterAll(async () => {
    await verifier?.close();
  });
  afterEach(async () => {
    await relay?.close();
    await database?.destroy();
  });

  const T = 1_760_000_000;

  it('pages backwards through a run of equal created_at longer than the page limit, across kinds, without stalling or skipping', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5 });
    // 8 events at T (4 comments by two authors, 4 reactions), and 30 spread before and after.
    const dense = [
      ...[0, 1, 2, 3].map((i) => note(i, T, 1111, i % 2 ? 'bob' : 'alice')),
      ...[4, 5, 6, 7].map((i) => note(i, T, 7, i % 2 ? 'bob' : 'alice')),
    ];
    const spread = Array.from({ length: 30 }, (_, i) => note(100 + i, T - 1000 + i * 67, i % 3 === 0 ? 7 : 1111));
    await relay.publish([...dense, ...spread], { timeoutMs: 60_000 });
    const connection = new RelayConnection({ url: relay.url, log, maxFrameBytes: 524_288 });
    connection.start();
    try {
      const result = await backfill(
        { connection, relay: relay.url, scope: 'all', filter: { kinds: [1111, 7] } },
        { db: database.db, pipeline: pipelineFor(database, verifier, log), log, since: T - 2000, until: T + 2000, pageLimit: 50 },
      );
      expect(result.incompleteSeconds).toEqual([]);
      expect(result.observedPageSize).toBe(5);
      const stored = await query<{ event_id: string }>(database.db, sql`SELECT event_id FROM nostr_events`);
      expect(stored.map((r) => r.event_id).sort()).toEqual([...dense, ...spread].map((e) => e.id).sort());
      // The whole range is recorded as covered, as one range: a second run has nothing to do.
      const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'all' });
      expect(coverage.map((r) => [r.since, r.until])).toEqual([[T - 2000, T + 2000]]);
      const again = await backfill(
        { connection, relay: relay.url, scope: 'all', filter: { kinds: [1111, 7] } },
        { db: database.db, pipeline: pipelineFor(database, verifier, log), log, since: T - 2000, until: T + 2000, pageLimit: 50 },
      );
      expect(again.pages).toBe(0);
    } finally {
      await connection.stop();
    }
  });

  it('reports a second it cannot list (one kind, more events than a page) instead of stalling or skipping silently', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ maxLimit: 5 });
    const dense = Array.from({ length: 9 }, (_, i) => note(i, T, 1111, i % 2 ? 'bob' : 'alice'));
    const older = Array.from({ length: 12 }, (_, i) => note(50 + i, T - 500 + i * 10));
    await relay.publish([...dense, ...older], { timeoutMs: 60_000 });
    const connection = new RelayConnection({ url: relay.url, log, maxFrameBytes: 524_288 });
    connection.start();
    try {
      const result = await backfill(
        { connection, relay: relay.url, scope: 'comments', filter: { kinds: [1111] } },
        { db: database.db, pipeline: pipelineFor(database, verifier, log), log, since: T - 1000, until: T + 10, pageLimit: 50 },
      );
      expect(result.incompleteSeconds).toEqual([T]);
      const stored = new Set((await query<{ event_id: string }>(database.db, sql`SELECT event_id FROM nostr_events`)).map((r) => r.event_id));
      // Everything below the dense second is stored; of the dense second, what the relay lists.
      for (const e of older) expect(stored.has(e.id)).toBe(true);
      expect(dense.filter((e) => stored.has(e.id)).length).toBe(5);
      // The incomplete second is not recorded as covered: it stays a hole.
      const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
      expect(coverage.some((r) => r.since <= T && r.until >= T)).toBe(false);
    } finally {
      await connection.stop();
    }
  });
});
