/**
 * Copies of one event from several relays: the first copy is verified, copies arriving while it is
 * pending are held as their relay frames (RelayConnection's fast path offers them to takeCopy
 * unparsed) and parsed only if the pending copy fails. Every value ends in one outcome counter, and
 * seen-on lists the relays that sent a copy, first seen first, in one row per event.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../../src/db/client.js';
import type { IngestPipeline } from '../../../src/ingest/pipeline/pipeline.js';
import { invalidTotal, type OutcomeCounts } from '../../../src/ingest/pipeline/outcomes.js';
import { createLogger } from '../../../src/log.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { note, testPipeline, waitFor } from '../../helpers/ingest.js';

const log = createLogger('silent');
const NOW = Math.floor(Date.now() / 1000);
const relay = (n: number) => `wss://relay-${n}.example`;
const frame = (event: unknown) => JSON.stringify(['EVENT', 'sub', event]);

/** A relay frame handed over the way RelayConnection does: only for an id the pipeline knows. */
function copy(pipeline: IngestPipeline, id: string, text: string, from: string): void {
  expect(pipeline.takeCopy(id, from, Buffer.from(text))).toBe(true);
}

/** The same event with one signature character changed: a forgery under the real id. */
function forged(event: NostrEvent): NostrEvent {
  return { ...event, sig: `${event.sig[0] === '0' ? '1' : '0'}${event.sig.slice(1)}` };
}

function settled(counts: OutcomeCounts): number {
  return counts.accepted + counts.duplicate + counts.superseded + counts.ephemeral + counts.expired + invalidTotal(counts);
}

async function seenOn(database: TestDatabase): Promise<Record<string, string[]>> {
  const rows = await query<{ event_id: string; relays: string[] }>(database.db, sql`SELECT event_id, relays FROM event_relays`);
  return Object.fromEntries(rows.map((r) => [r.event_id, r.relays]));
}

async function storedIds(database: TestDatabase): Promise<string[]> {
  const rows = await query<{ event_id: string }>(database.db, sql`SELECT event_id FROM nostr_events ORDER BY event_id`);
  return rows.map((r) => r.event_id);
}

describe.each(engines)('copies of pending events on %s', (driver) => {
  let verifier: VerifyPool;
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterAll(async () => {
    await database?.destroy();
    await verifier?.close();
  });
  const fresh = async () => {
    await database?.destroy();
    database = await createTestDatabase(driver);
    return database;
  };

  it('writes one seen-on row listing every relay, and counts held copies as duplicates', async () => {
    const db = await fresh();
    const pipeline = testPipeline(db, verifier, log);
    const event = note(1, NOW - 10);
    expect(pipeline.takeCopy(event.id, relay(0), Buffer.from(frame(event)))).toBe(false); // not seen yet
    expect(pipeline.counts.received).toBe(0);
    await pipeline.submit({ value: event, relay: relay(0) });
    // Six more copies while the first is pending; the seventh relay repeats the second.
    for (let n = 1; n <= 6; n++) copy(pipeline, event.id, frame(event), relay(n));
    copy(pipeline, event.id, frame(event), relay(2));
    await pipeline.flush();

    expect(await storedIds(db)).toEqual([event.id]);
    expect(await seenOn(db)).toEqual({ [event.id]: [0, 1, 2, 3, 4, 5, 6].map(relay) });
    expect(pipeline.counts).toMatchObject({ received: 8, accepted: 1, duplicate: 7, invalid: {} });

    // A copy after the commit is a duplicate of a verified event: the row gains only a new relay.
    copy(pipeline, event.id, frame(event), relay(7));
    copy(pipeline, event.id, frame(event), relay(3));
    await pipeline.flush();
    expect(await seenOn(db)).toEqual({ [event.id]: [0, 1, 2, 3, 4, 5, 6, 7].map(relay) });
    expect(settled(pipeline.counts)).toBe(pipeline.counts.received);
  });

  it('parses a held copy when the pending copy was forged, and stores the real event', async () => {
    const db = await fresh();
    const pipeline = testPipeline(db, verifier, log);
    const event = note(2, NOW - 10);
    await pipeline.submit({ value: forged(event), relay: relay(0) });
    copy(pipeline, event.id, frame(forged(event)), relay(1)); // a second forgery waits too
    // The same relay again: not held, so it cannot take the waiting places an honest copy needs.
    for (let i = 0; i < 5; i++) copy(pipeline, event.id, frame(forged(event)), relay(1));
    copy(pipeline, event.id, `["EVENT","sub",{"id":"${event.id}",`, relay(3)); // held, not an event
    copy(pipeline, event.id, frame(event), relay(2));
    await pipeline.flush();

    expect(await storedIds(db)).toEqual([event.id]);
    // Relays that sent only forgeries or broken frames were not seen holding the event.
    expect(await seenOn(db)).toEqual({ [event.id]: [relay(2)] });
    expect(pipeline.counts).toMatchObject({ received: 9, accepted: 1, duplicate: 5, invalid: { bad_sig: 2 } });
    expect(settled(pipeline.counts)).toBe(pipeline.counts.received);
    expect(pipeline.takeCopy(event.id, relay(9), Buffer.from(frame(event)))).toBe(true); // verified now
  });

  it('stores the real event a relay sends after its own forgery of it, but holds no third copy from it', async () => {
    const db = await fresh();
    const pipeline = testPipeline(db, verifier, log);
    const event = note(6, NOW - 10);
    await pipeline.submit({ value: forged(event), relay: relay(0) });
    copy(pipeline, event.id, frame(event), relay(0)); // held: the relay's first copy is the pending one
    copy(pipeline, event.id, frame(event), relay(0)); // a repeat beside its held copy: dropped
    await pipeline.flush();

    expect(await storedIds(db)).toEqual([event.id]);
    expect(await seenOn(db)).toEqual({ [event.id]: [relay(0)] });
    expect(pipeline.counts).toMatchObject({ received: 3, accepted: 1, duplicate: 1, invalid: { bad_sig: 1 } });
  });

  it("commits a relay's marker (its coverage) only with or after the copies that relay sent, also when the first copy was forged", async () => {
    const db = await fresh();
    const pipeline = testPipeline(db, verifier, log);
    const event = note(5, NOW - 10);
    await pipeline.submit({ value: forged(event), relay: relay(0) });
    copy(pipeline, event.id, frame(event), relay(1)); // the real event, held beside the forgery
    // Each marker records whether the event was stored when its transaction ran.
    const saw: Array<[string, boolean]> = [];
    const marker = (from: string) =>
      pipeline.mark(async (tx) => {
        const rows = await query<{ event_id: string }>(tx, sql`SELECT event_id FROM nostr_events WHERE event_id = ${event.id}`);
        saw.push([from, rows.length === 1]);
      }, from);
    // Taken in the same batch as the forgery: relay 1's copy is parsed only once that batch has
    // found the forgery, so relay 1's marker must wait for the batch that stores the real event.
    // Relay 2 sent nothing: its marker does not wait.
    const marked = Promise.all([marker(relay(1)), marker(relay(2))]);
    await pipeline.flush();
    await marked;
    expect(saw).toEqual([
      [relay(2), false],
      [relay(1), true],
    ]);
    expect(await storedIds(db)).toEqual([event.id]);
  });

  it('commits nothing after a batch failed for good, not even a marker queued before the failure', async () => {
    const db = await fresh();
    const pipeline = testPipeline(db, verifier, log, { maxWriteAttempts: 1 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const failing = pipeline.mark(async () => {
      await gate;
      throw new Error('the batch fails');
    });
    failing.catch(() => {});
    await waitFor(() => pipeline.depth.pendingBatches === 1, 'the failing batch in flight');
    let laterRan = false;
    const later = pipeline.mark(async () => {
      laterRan = true;
    });
    later.catch(() => {});
    await waitFor(() => pipeline.depth.pendingBatches === 2, 'the later batch queued behind it');
    release();
    await expect(failing).rejects.toThrow('the batch fails');
    await expect(later).rejects.toThrow('the batch fails');
    expect(laterRan).toBe(false);
  });

  it('counts a held frame that is not an event, and one whose peeked id was not its own, by what they are', async () => {
    const db = await fresh();
    const pipeline = testPipeline(db, verifier, log);
    const claimed = note(3, NOW - 10);
    const other = note(4, NOW - 20);
    await pipeline.submit({ value: forged(claimed), relay: relay(0) });
    copy(pipeline, claimed.id, `["EVENT","sub",{"id":"${claimed.id}",`, relay(1)); // truncated frame
    copy(pipeline, claimed.id, frame(other), relay(2)); // peeked as `claimed`, holds `other`
    // Stored without a flush: the batch timer also covers events taken in while a batch is written.
    await waitFor(async () => (await storedIds(db)).includes(other.id), 'the event the frame really held', 30_000);
    await pipeline.flush();

    expect(await storedIds(db)).toEqual([other.id]);
    expect(await seenOn(db)).toEqual({ [other.id]: [relay(2)] });
    expect(pipeline.counts.accepted).toBe(1);
    expect(pipeline.counts.invalid.bad_sig).toBe(1);
    expect(invalidTotal(pipeline.counts)).toBe(2); // the forgery and the unparseable frame
    expect(settled(pipeline.counts)).toBe(pipeline.counts.received);
    // Nothing real was ever seen under that id: a further frame claiming it goes to the full parse.
    expect(pipeline.takeCopy(claimed.id, relay(9), Buffer.from(frame(claimed)))).toBe(false);
  });
});
