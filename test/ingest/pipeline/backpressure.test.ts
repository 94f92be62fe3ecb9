/**
 * The pipeline bounds what it holds: while every batch slot is taken (the database is slow), each
 * submit waits, so a reader that pauses on pending submits (RelayConnection) stops reading and a
 * burst stays in the relay's socket rather than in memory.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../../src/db/client.js';
import { createLogger } from '../../../src/log.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import { WRITER_LOCK_KEY } from '../../../src/store/locks.js';
import { createTestDatabase, engines } from '../../helpers/engines.js';
import { note, testPipeline, waitFor } from '../../helpers/ingest.js';

const log = createLogger('silent');
const NOW = Math.floor(Date.now() / 1000);
const RELAY = 'wss://relay.example';
const OTHER_RELAY = 'wss://other.example';

describe.each(engines)('pipeline backpressure on %s', (driver) => {
  let verifier: VerifyPool;
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterAll(async () => {
    await verifier?.close();
  });

  it('makes every submitter wait while the batch slots are full, then stores everything', async () => {
    const database = await createTestDatabase(driver);
    try {
      const pipeline = testPipeline(database, verifier, log, { batchSize: 10, maxPendingBatches: 2 });
      // Hold the writers' lock in a transaction of our own: batches cannot commit until released.
      // (On PGlite the open transaction holds the whole single-session database.)
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const holding = new Promise<void>((resolve) => (locked = resolve));
      const blocker = database.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${WRITER_LOCK_KEY})`);
        locked();
        await gate;
      });
      await holding;

      const events = Array.from({ length: 300 }, (_, i) => note(i, NOW - i));
      let accepted = 0;
      const submits = events.map((event) => pipeline.submit({ value: event, relay: RELAY }).then(() => void accepted++));
      await waitFor(() => pipeline.depth.pendingBatches >= 2, 'both batch slots taken');
      // Give every submit the chance to return that could: none can finish a batch meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Taken in: two batches in flight, one dispatching and a partial buffer at most.
      expect(accepted).toBeLessThanOrEqual(4 * 10);
      expect(pipeline.depth.pendingBatches).toBeLessThanOrEqual(3);
      // A coverage marker of the relay made now commits with its events still waiting for a slot,
      // not before them (a crash in between would leave them behind its cursor); another relay's
      // marker does not wait for them. Each records how many events its transaction saw.
      const storedWhenMarked: Record<string, number> = {};
      const marker = (relay: string) =>
        pipeline.mark(async (tx) => {
          const [row] = await query<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM nostr_events`);
          storedWhenMarked[relay] = row!.n;
        }, relay);
      const marked = Promise.all([marker(RELAY), marker(OTHER_RELAY)]);

      release();
      await blocker;
      await Promise.all(submits);
      await pipeline.flush();
      await marked;
      expect(storedWhenMarked[RELAY]).toBe(events.length);
      expect(storedWhenMarked[OTHER_RELAY]).toBeLessThan(events.length);
      expect(accepted).toBe(events.length);
      const [row] = await query<{ n: number }>(database.db, sql`SELECT count(*)::int AS n FROM nostr_events`);
      expect(row!.n).toBe(events.length);
      // Events that waited for a slot keep their relay: first relay and seen-on, for every event.
      const [seen] = await query<{ first: number; seen: number }>(
        database.db,
        sql`SELECT (SELECT count(*)::int FROM nostr_events WHERE relay = ${RELAY}) AS first,
                   (SELECT count(*)::int FROM event_relays WHERE relays = ARRAY[${RELAY}]) AS seen`,
      );
      expect(seen).toEqual({ first: events.length, seen: events.length });
    } finally {
      await database.destroy();
    }
  });
});
