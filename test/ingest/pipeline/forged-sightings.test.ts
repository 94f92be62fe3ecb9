/**
 * Seen-on provenance cannot be forged (issue 15, item 6): a relay that sends only forged copies
 * (the real id, a bad signature) of events already stored is never listed in event_relays for
 * them, whichever way its copies arrive: read from the database as stored (a fresh daemon), held
 * beside a pending copy, or taken on the duplicate fast path once the event is verified in memory.
 * Each forged copy is counted as rejected (bad_sig). Real daemon, real relays on 127.0.0.1.
 */
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { query } from '../../../src/db/client.js';
import { IngestDaemon } from '../../../src/ingest/fleet/daemon.js';
import { parseRelaySet } from '../../../src/ingest/fleet/relay-set.js';
import type { IngestPipeline } from '../../../src/ingest/pipeline/pipeline.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { createLogger } from '../../../src/log.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { note, testPipeline, waitFor } from '../../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';
import { ScriptedRelay } from '../../helpers/scripted-relay.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
vi.setConfig({ testTimeout: 120_000 });

const scopes = { comments: { filter: { kinds: [1111], '#K': ['web'] } } };

/** The same event with its signature's first character changed: a forgery under the real id. */
function forged(event: NostrEvent): NostrEvent {
  return { ...event, sig: `${event.sig[0] === '0' ? '1' : '0'}${event.sig.slice(1)}` };
}

function daemonOn(database: TestDatabase, relays: string[], pipeline: IngestPipeline, overlapSeconds = 30): IngestDaemon {
  return new IngestDaemon({
    db: database.db,
    pipeline,
    relaySet: parseRelaySet({ primaries: relays, scopes }, 'test'),
    log,
    connect: (url) => new RelayConnection({ url, log, maxFrameBytes: 524_288, backoff: { minMs: 50, maxMs: 500 } }),
    openLockSession: () => database.session(),
    ownershipIntervalMs: 300,
    overlapSeconds,
    clockMarginSeconds: 0,
    initialLookbackSeconds: 600,
    tickMs: 50,
    repairIntervalMs: 0,
    fetchRelayInfo: false,
  });
}

async function seenOn(database: TestDatabase): Promise<Map<string, string[]>> {
  const rows = await query<{ event_id: string; relays: string[] }>(database.db, sql`SELECT event_id, relays FROM event_relays`);
  return new Map(rows.map((r) => [r.event_id, r.relays]));
}

describe.each(engines)('forged copies of stored events on %s', (driver) => {
  let verifier: VerifyPool;
  let database: TestDatabase | undefined;
  let honest: TestRelay | undefined;
  let forger: ScriptedRelay | undefined;
  const daemons: IngestDaemon[] = [];
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await honest?.close();
    await forger?.wss.close();
    await database?.destroy();
  });
  afterAll(async () => {
    await verifier?.close();
  });

  it('never lists a relay that sent only forgeries, and counts each forgery as rejected', async () => {
    database = await createTestDatabase(driver);
    honest = await startTestRelay();
    const now = Math.floor(Date.now() / 1000);
    const events = Array.from({ length: 20 }, (_, i) => note(1500 + i, now - 60 + i));
    await honest.publish(events);

    // 1. Stored from the honest relay alone.
    const first = testPipeline(database, verifier, log);
    const one = daemonOn(database, [honest.url], first);
    daemons.push(one);
    await one.start();
    await waitFor(() => first.counts.accepted === events.length, 'events stored from the honest relay');
    await one.stop();
    daemons.splice(0);

    // 2. A fresh daemon (nothing in memory) reads both relays, the honest one again from before the
    //    events (a long overlap); the forger answers every REQ with forged copies of every event,
    //    and keeps the socket of the first REQ to send more later.
    const fakes = events.map(forged);
    let live: { ws: WebSocket; id: string } | null = null;
    let reqs = 0;
    forger = await ScriptedRelay.start({
      onReq: (ws, req) => {
        reqs++;
        live ??= { ws, id: req.id };
        for (const e of fakes) ws.send(JSON.stringify(['EVENT', req.id, e]));
        ws.send(JSON.stringify(['EOSE', req.id]));
      },
    });
    const pipeline = testPipeline(database, verifier, log);
    const two = daemonOn(database, [honest.url, forger.url], pipeline, 600);
    daemons.push(two);
    await two.start();
    const badSig = () => pipeline.counts.invalid.bad_sig ?? 0;
    // Each copy settled either way (so that without the check this fails on what is listed).
    const settled = () => pipeline.counts.duplicate + badSig();
    // The honest copies are found stored (duplicates), so the events are verified in memory after.
    await waitFor(() => reqs > 0 && settled() >= events.length + reqs * fakes.length, 'the first copies settled');
    await pipeline.flush();
    const firstRound = reqs * fakes.length;
    const before = settled();
    for (const e of fakes) live!.ws.send(JSON.stringify(['EVENT', live!.id, e]));
    await waitFor(() => settled() === before + fakes.length, 'the later forgeries settled');
    await two.stop();
    daemons.splice(0);

    const rows = await seenOn(database);
    expect(rows.size).toBe(events.length);
    for (const e of events) expect(rows.get(e.id)).toEqual([honest.url]);
    expect(pipeline.counts.accepted).toBe(0);
    expect(pipeline.counts.invalid).toEqual({ bad_sig: firstRound + fakes.length });
    expect(pipeline.counts.received).toBe(pipeline.counts.duplicate + badSig());
  });

  it('never lists a relay whose forgery was held beside a real pending copy', async () => {
    database = await createTestDatabase(driver);
    const pipeline = testPipeline(database, verifier, log);
    const event = note(1600, Math.floor(Date.now() / 1000) - 10);
    const frame = (e: NostrEvent) => Buffer.from(JSON.stringify(['EVENT', 'sub', e]));
    await pipeline.submit({ value: event, relay: 'wss://honest.example' });
    // Held beside the pending real copy; an honest second relay too.
    expect(pipeline.takeCopy(event.id, 'wss://forger.example', frame(forged(event)))).toBe(true);
    expect(pipeline.takeCopy(event.id, 'wss://second.example', frame(event))).toBe(true);
    await pipeline.flush();
    // And after it is verified: the fast path does not take a forgery.
    expect(pipeline.takeCopy(event.id, 'wss://late-forger.example', frame(forged(event)))).toBe(false);
    await pipeline.submit({ value: forged(event), relay: 'wss://late-forger.example' });
    await pipeline.flush();

    expect(await seenOn(database)).toEqual(new Map([[event.id, ['wss://honest.example', 'wss://second.example']]]));
    expect(pipeline.counts).toMatchObject({ received: 4, accepted: 1, duplicate: 1, invalid: { bad_sig: 2 } });
  });
});
