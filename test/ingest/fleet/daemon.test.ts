/**
 * Live ingest end to end against a real relay implementation (@nostr-relay/core over SQLite) on
 * 127.0.0.1, on both engines: live flow, relay crash and restart, database connections dropped,
 * fallback relays taking a scope over and handing it back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { finalizeEvent } from 'nostr-tools/pure';
import { query, type AppDatabase } from '../../../src/db/client.js';
import { IngestDaemon } from '../../../src/ingest/fleet/daemon.js';
import { IngestPipeline } from '../../../src/ingest/pipeline/pipeline.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { parseRelaySet, type RelaySet } from '../../../src/ingest/fleet/relay-set.js';
import { loadCoverage, loadHoles, recordCoverage } from '../../../src/store/ingest-state.js';
import { holes } from '../../../src/ranges.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { createLogger } from '../../../src/log.js';
import { handBuiltEvents, world, secretKeys } from '../../fixtures/hand-built.js';
import postgres from 'postgres';
import { adminUrl, createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';
import { testPipeline, waitFor } from '../../helpers/ingest.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
// Real relays, reconnect backoff and fallback timers: a loaded CI machine needs more than 60 s.
vi.setConfig({ testTimeout: 180_000 });
const NOW = Math.floor(Date.now() / 1000);

/**
 * A signed clawstr post (kind 1111, K=web) dated `ago` seconds before the moment it is made. Events
 * published to a live subscription must be current: a relay only forwards live events that match
 * the REQ's `since`, so a back-dated event published late is (rightly) not forwarded.
 */
function post(n: number, ago = 0): NostrEvent {
  return finalizeEvent(
    {
      kind: 1111,
      created_at: Math.floor(Date.now() / 1000) - ago,
      tags: [
        ['I', 'https://clawstr.com/c/live'],
        ['K', 'web'],
        ['i', 'https://clawstr.com/c/live'],
        ['k', 'web'],
      ],
      content: `live post ${n}`,
    },
    secretKeys.alice,
  ) as NostrEvent;
}

interface Running {
  daemon: IngestDaemon;
  pipeline: IngestPipeline;
  stop(): Promise<void>;
}

async function startDaemon(
  database: TestDatabase,
  relaySet: RelaySet,
  verifier: VerifyPool,
  overrides: Partial<ConstructorParameters<typeof IngestDaemon>[0]> = {},
): Promise<Running> {
  const db = database.db;
  const pipeline = testPipeline(database, verifier, log, { retryDelayMs: 100, operationTimeoutMs: 10_000 });
  const daemon = new IngestDaemon({
    db,
    pipeline,
    relaySet,
    log,
    openLockSession: () => database.session(),
    ownershipIntervalMs: 200,
    connect: (url) =>
      new RelayConnection({
        url,
        log,
        maxFrameBytes: 524_288,
        // As in production (service.ts): copies of verified events skip the parse.
        takeKnownCopies: true,
        backoff: { minMs: 50, maxMs: 500 },
        keepaliveMs: 2000,
        pongTimeoutMs: 2000,
        connectTimeoutMs: 2000,
      }),
    overlapSeconds: 30,
    clockMarginSeconds: 0,
    // The hand-built world is dated 2023: reach back far enough to follow it live.
    initialLookbackSeconds: NOW - 1_690_000_000,
    tickMs: 50,
    repairIntervalMs: 200,
    fallbackAfterMs: 300,
    handBackAfterMs: 300,
    ...overrides,
  });
  await daemon.start();
  return { daemon, pipeline, stop: () => daemon.stop() };
}

async function storedIds(db: AppDatabase, kinds: number[]): Promise<string[]> {
  const rows = await query<{ event_id: string }>(
    db,
    sql`SELECT event_id FROM nostr_events WHERE kind IN (${sql.raw(kinds.join(', '))}) ORDER BY event_id`,
  );
  return rows.map((r) => r.event_id);
}

const commentScope = { filter: { kinds: [1111], '#K': ['web'] } };

describe.each(engines)('live ingest on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  const relays: TestRelay[] = [];
  let running: Running | null = null;

  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterEach(async () => {
    await running?.stop();
    running = null;
    await Promise.all(relays.splice(0).map((r) => r.close()));
    await database?.destroy();
  });
  afterAll(async () => {
    await verifier?.close();
  });

  it('stores what the relay holds and what it publishes live, normalised', async () => {
    database = await createTestDatabase(driver);
    const relay = await startTestRelay();
    relays.push(relay);
    const world1111 = handBuiltEvents.filter((e) => e.kind === 1111 && e.tags.some((t) => t[0] === 'K' && t[1] === 'web'));
    const reactions = handBuiltEvents.filter((e) => e.kind === 7);
    // The relay refuses the world's already-expired post (NIP-40), as it should.
    await relay.publish([...world1111, ...reactions], { allowRejected: true, timeoutMs: 60_000 });
    const relaySet = parseRelaySet(
      { primaries: [relay.url], scopes: { comments: commentScope, reactions: { filter: { kinds: [7] } } } },
      'test',
    );
    running = await startDaemon(database, relaySet, verifier);
    const expected = (await relay.query({ kinds: [1111], '#K': ['web'] })).map((e) => e.id).sort();
    await waitFor(async () => (await storedIds(database.db, [1111])).length >= expected.length, 'stored comments');
    // The relay honours NIP-09: the deleted posts it received are not served, so compare with it.
    expect(await storedIds(database.db, [1111])).toEqual(expected);
    const [ai] = await query<{ subclaw: string; is_ai: boolean; is_top_level: boolean; relay: string }>(
      database.db,
      sql`SELECT subclaw, is_ai, is_top_level, relay FROM nostr_events WHERE event_id = ${world.posts.aiTopLevel.id}`,
    );
    expect(ai).toEqual({ subclaw: 'ai', is_ai: true, is_top_level: true, relay: relay.url });
    const relayReactions = (await relay.query({ kinds: [7] })).length;
    await waitFor(async () => (await storedIds(database.db, [7])).length === relayReactions, 'stored reactions');

    // Live: a post published now arrives through the open subscription.
    const fresh = post(1);
    await relay.publish([fresh]);
    await waitFor(async () => (await storedIds(database.db, [1111])).includes(fresh.id), 'live post');
    const seenOn = await query<{ relays: string[] }>(database.db, sql`SELECT relays FROM event_relays WHERE event_id = ${fresh.id}`);
    expect(seenOn).toEqual([{ relays: [relay.url] }]);

    // Coverage for (relay, scope) is one range reaching the present.
    await waitFor(async () => {
      const cov = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
      return cov.length === 1 && cov[0]!.until >= NOW;
    }, 'coverage up to now');
    const health = running.daemon.health();
    expect(health.scopes.find((s) => s.scope === 'comments')?.servedBy).toEqual([relay.url]);
  });

  it('loses nothing when the relay crashes mid-stream and restarts: no hole, cursors correct', async () => {
    database = await createTestDatabase(driver);
    const relay = await startTestRelay();
    relays.push(relay);
    const before = Array.from({ length: 300 }, (_, i) => post(i, 600 - i));
    await relay.publish(before, { timeoutMs: 60_000 });
    running = await startDaemon(database, parseRelaySet({ primaries: [relay.url], scopes: { comments: commentScope } }, 'test'), verifier);
    // Crash the relay while ingest is under way; new events arrive once it is back.
    await waitFor(async () => (await storedIds(database.db, [1111])).length > 0, 'first events');
    await relay.kill();
    await new Promise((r) => setTimeout(r, 300));
    await relay.restart();
    const after = Array.from({ length: 100 }, (_, i) => post(1000 + i));
    await relay.publish(after, { timeoutMs: 60_000 });
    const expected = (await relay.storedEvents()).filter((e) => e.kind === 1111).map((e) => e.id).sort();
    await waitFor(async () => (await storedIds(database.db, [1111])).length >= expected.length, 'catch-up after restart');
    expect(await storedIds(database.db, [1111])).toEqual(expected);
    await waitFor(async () => {
      const cov = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
      return holes(cov).length === 0 && (cov.at(-1)?.until ?? 0) >= NOW;
    }, 'coverage without holes');
  });

  it('survives its database connections being dropped mid-ingest and catches up', async () => {
    database = await createTestDatabase(driver);
    const relay = await startTestRelay();
    relays.push(relay);
    running = await startDaemon(database, parseRelaySet({ primaries: [relay.url], scopes: { comments: commentScope } }, 'test'), verifier);
    await relay.publish(Array.from({ length: 200 }, (_, i) => post(i)), { timeoutMs: 60_000 });
    // While the next events flow in, every server connection of this database is terminated,
    // repeatedly, as a Postgres restart would do (the real-Postgres leg; PGlite has no connections).
    const terminate = async () => {
      if (driver !== 'postgres') return;
      const name = new URL(database.url!).pathname.slice(1);
      const killer = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await killer`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${name} AND pid <> pg_backend_pid()`;
      await killer.end();
    };
    const publishing = relay.publish(Array.from({ length: 400 }, (_, i) => post(500 + i)), { timeoutMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      await terminate();
      await new Promise((r) => setTimeout(r, 150));
    }
    await publishing;
    const expected = (await relay.storedEvents()).map((e) => e.id).sort();
    await waitFor(async () => (await storedIds(database.db, [1111])).length >= expected.length, 'catch-up after the drop');
    expect(await storedIds(database.db, [1111])).toEqual(expected);
  });

  it('moves a scope to fallbacks while primaries are down, from the cursor, and hands it back without a hole', async () => {
    database = await createTestDatabase(driver);
    const primary = await startTestRelay();
    const fallback = await startTestRelay();
    relays.push(primary, fallback);
    const early = Array.from({ length: 50 }, (_, i) => post(i, 900 - i));
    await primary.publish(early);
    await fallback.publish(early);
    running = await startDaemon(
      database,
      parseRelaySet({ primaries: [primary.url], fallbacks: [fallback.url], scopes: { comments: commentScope } }, 'test'),
      verifier,
    );
    await waitFor(async () => (await storedIds(database.db, [1111])).length === 50, 'initial events');
    // The primary's coverage (committed after its events) is where the fallback must start from.
    await waitFor(async () => (await loadCoverage(database.db, { relay: primary.url, scope: 'comments' })).length > 0, 'primary covered');
    // A primary slow to connect (a loaded machine) can have the fallback take over at start, with
    // nothing covered yet: that switch is not the one under test. Wait until the primary has it.
    await waitFor(() => running!.daemon.health().scopes[0]!.fallbackActive === false, 'scope served by the primary');
    const before = running.daemon.switches.length;
    await primary.stop();
    // Published while the primary is down: only the fallback has them.
    const during = Array.from({ length: 40 }, (_, i) => post(100 + i));
    await fallback.publish(during, { timeoutMs: 60_000 });
    await waitFor(async () => running!.daemon.switches.slice(before).some((s) => s.action === 'fallback'), 'fallback switch');
    await waitFor(async () => (await storedIds(database.db, [1111])).length === 90, 'events through the fallback');
    const takeover = running.daemon.switches.slice(before).find((s) => s.action === 'fallback')!;
    expect(takeover.from).not.toBeNull();
    await primary.restart();
    const later = Array.from({ length: 30 }, (_, i) => post(200 + i));
    await primary.publish(later, { timeoutMs: 60_000 });
    await waitFor(async () => running!.daemon.switches.some((s) => s.action === 'hand_back'), 'hand-back');
    await waitFor(async () => (await storedIds(database.db, [1111])).length === 120, 'events after hand-back');
    expect(running.daemon.health().scopes[0]!.fallbackActive).toBe(false);
    // The primary's own coverage closed the outage when it came back: no hole.
    await waitFor(async () => holes(await loadCoverage(database.db, { relay: primary.url, scope: 'comments' })).length === 0, 'no hole');
  });

  it('finds a hole between covered ranges and repairs it by backfilling, leaving one range', async () => {
    database = await createTestDatabase(driver);
    const relay = await startTestRelay({ maxLimit: 10 });
    relays.push(relay);
    const now = Math.floor(Date.now() / 1000);
    // Events the relay holds inside [now-5000, now-3000], which earlier runs did not cover.
    const inHole = Array.from({ length: 25 }, (_, i) => post(300 + i, 4900 - i * 70));
    await relay.publish(inHole, { timeoutMs: 60_000 });
    await database.writer.transaction(async (tx) => {
      await recordCoverage(tx, relay.url, 'comments', { since: now - 10_000, until: now - 5001 });
      await recordCoverage(tx, relay.url, 'comments', { since: now - 2999, until: now - 60 });
    });
    running = await startDaemon(database, parseRelaySet({ primaries: [relay.url], scopes: { comments: commentScope } }, 'test'), verifier);
    await waitFor(async () => holes(await loadCoverage(database.db, { relay: relay.url, scope: 'comments' })).length === 0, 'hole repaired');
    const stored = new Set(await storedIds(database.db, [1111]));
    expect(inHole.every((e) => stored.has(e.id))).toBe(true);
    // The repair is listed once its backfill has returned, which may be a moment after its commit.
    await waitFor(() => running!.daemon.repairs.length > 0, 'repair listed');
    expect(running.daemon.repairs.some((r) => r.hole.since === now - 5000 && r.hole.until === now - 3000 && !r.error)).toBe(true);
  });

  it('stores the same events from three relays once, skipping the parse of known copies, and records every relay seen on', async () => {
    database = await createTestDatabase(driver);
    const trio = await Promise.all([startTestRelay(), startTestRelay(), startTestRelay()]);
    relays.push(...trio);
    const held = Array.from({ length: 40 }, (_, i) => post(700 + i, 2000 - i * 30));
    await trio[0]!.publish(held, { timeoutMs: 60_000 });
    running = await startDaemon(database, parseRelaySet({ primaries: trio.map((r) => r.url), scopes: { comments: commentScope } }, 'test'), verifier);
    await waitFor(async () => (await storedIds(database.db, [1111])).length === held.length, 'first relay stored');
    // Every event is verified now: the copies the other two relays forward live are known.
    await Promise.all(trio.slice(1).map((r) => r.publish(held, { timeoutMs: 60_000 })));
    await waitFor(async () => {
      const rows = await query<{ n: number }>(database.db, sql`SELECT count(*)::int AS n FROM event_relays WHERE cardinality(relays) = 3`);
      return rows[0]!.n === held.length;
    }, 'every copy recorded as seen on its relay');
    const orders = await query<{ relays: string[] }>(database.db, sql`SELECT relays FROM event_relays`);
    // The first relay held them all before the others forwarded them: it is first seen everywhere.
    expect(orders.every((o) => o.relays[0] === trio[0]!.url && new Set(o.relays).size === 3)).toBe(true);
    expect(await storedIds(database.db, [1111])).toEqual(held.map((e) => e.id).sort());
    const skipped = Object.fromEntries(running.daemon.health().relays.map((r) => [r.url, r.knownEventsSkipped]));
    expect(skipped).toEqual({ [trio[0]!.url]: 0, [trio[1]!.url]: held.length, [trio[2]!.url]: held.length });
    // (Hole repair of the catch-up's oldest second may fetch a copy or two more.)
    expect(running.pipeline.counts.duplicate).toBeGreaterThanOrEqual(held.length * 2);
    expect(running.pipeline.counts.accepted).toBe(held.length);
  });

  it('does not take a live answer capped by the relay for the whole range: the older part is paged in', async () => {
    database = await createTestDatabase(driver);
    // The relay answers a REQ without limit with its 10 newest matches only, as real relays do.
    const relay = await startTestRelay({ maxLimit: 10 });
    relays.push(relay);
    const held = Array.from({ length: 35 }, (_, i) => post(500 + i, 3000 - i * 60));
    await relay.publish(held, { timeoutMs: 60_000 });
    running = await startDaemon(database, parseRelaySet({ primaries: [relay.url], scopes: { comments: commentScope } }, 'test'), verifier);
    await waitFor(async () => {
      const stored = new Set(await storedIds(database.db, [1111]));
      return held.every((e) => stored.has(e.id));
    }, 'every held event stored, not just the newest page');
    // Coverage reaches back past the oldest held event, proven by paging rather than assumed. (It
    // commits with the batch after the repair's last page, so it may trail the events a moment.)
    await waitFor(async () => {
      const found = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
      return found.length > 0 && found[0]!.since <= held[0]!.created_at;
    }, 'coverage back to the oldest held event');
    expect(holes(await loadCoverage(database.db, { relay: relay.url, scope: 'comments' }))).toEqual([]);
  });

  it('covers a scope whose possibly capped first answer is all newer than the clock margin, once the margin has passed', async () => {
    database = await createTestDatabase(driver);
    // A page size of 1 makes the one-event answer possibly capped; the event is 5 s ahead of the
    // clock, so at EOSE nothing is old enough to be proven.
    const relay = await startTestRelay({ maxLimit: 1 });
    relays.push(relay);
    const ahead = post(900, -5);
    await relay.publish([ahead]);
    running = await startDaemon(database, parseRelaySet({ primaries: [relay.url], scopes: { comments: commentScope } }, 'test'), verifier);
    await waitFor(async () => (await storedIds(database.db, [1111])).includes(ahead.id), 'event stored');
    await waitFor(async () => {
      const ranges = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
      return ranges.length > 0 && ranges[0]!.since <= ahead.created_at + 1 && ranges.at(-1)!.until > ahead.created_at;
    }, 'coverage from just after the answer, advancing with the clock', 30_000);
  });

  it('keeps the hole a capped answer left across a restart, reports it, and pages it in then', async () => {
    database = await createTestDatabase(driver);
    const relay = await startTestRelay({ maxLimit: 10 });
    relays.push(relay);
    const held = Array.from({ length: 35 }, (_, i) => post(800 + i, 3000 - i * 60));
    await relay.publish(held, { timeoutMs: 60_000 });
    const relaySet = parseRelaySet({ primaries: [relay.url], scopes: { comments: commentScope } }, 'test');
    // First run without hole repair: stopped after the capped answer, before anything pages it in.
    running = await startDaemon(database, relaySet, verifier, { repairIntervalMs: 0 });
    // The hole is stored in the transaction of the answer's events, beside its proven part.
    const holeRows = () => loadHoles(database.db);
    await waitFor(async () => (await holeRows()).length > 0, 'hole stored');
    const [stored] = await holeRows();
    expect(await holeRows()).toHaveLength(1);
    // The REQ carried a limit (sent before NIP-11 arrived: the default 500); the relay answered 10,
    // and with its cap not known yet that answer proves only its newer part.
    expect(relay.requests.some((filters) => filters[0]?.limit === 500 && filters[0]?.since !== undefined)).toBe(true);
    // Health reports exactly that hole.
    await waitFor(() => (running!.daemon.health().scopes.find((x) => x.scope === 'comments')!.holes[relay.url] ?? []).length > 0, 'hole in health');
    expect(running.daemon.health().scopes.find((x) => x.scope === 'comments')!.holes[relay.url]).toEqual([{ since: stored!.since, until: stored!.until }]);
    await running.stop();
    running = null;
    const before = new Set(await storedIds(database.db, [1111]));
    expect(held.filter((e) => !before.has(e.id)).length).toBeGreaterThan(0);

    running = await startDaemon(database, relaySet, verifier);
    await waitFor(async () => {
      const now = new Set(await storedIds(database.db, [1111]));
      return held.every((e) => now.has(e.id));
    }, 'the older part paged in after the restart');
    await waitFor(async () => (await holeRows()).length === 0, 'the proven hole cleared');
    const ranges = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(holes(ranges)).toEqual([]);
    expect(ranges[0]!.since).toBeLessThanOrEqual(stored!.since);
    expect(running.daemon.repairs.some((r) => r.hole.since === stored!.since && r.hole.until === stored!.until && !r.error)).toBe(true);
  });
});
