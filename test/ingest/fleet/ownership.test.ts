/**
 * Per-relay ownership through session advisory locks.
 * - Both engines: one daemon owns every relay (primaries and fallbacks), reports it, and releases
 *   the locks when it stops.
 * - Real Postgres, several daemons on one database (separate Database handles, or a child process):
 *   each relay read by exactly one daemon, every event stored once, and the relays of a daemon
 *   that stops, is killed, or loses its lock session taken over without a hole in coverage.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase, query, type Database } from '../../../src/db/client.js';
import { holes } from '../../../src/ranges.js';
import { IngestDaemon } from '../../../src/ingest/fleet/daemon.js';
import type { IngestPipeline } from '../../../src/ingest/pipeline/pipeline.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { parseRelaySet, type RelaySet } from '../../../src/ingest/fleet/relay-set.js';
import { loadCoverage } from '../../../src/store/ingest-state.js';
import { relayLockHolders } from '../../../src/store/locks.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import { createLogger } from '../../../src/log.js';
import { ingestReport, startIngest, type DaemonProcess } from '../../helpers/daemon-process.js';
import { adminUrl, createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { publishEach as publish, testPipeline, waitFor } from '../../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
vi.setConfig({ testTimeout: 240_000 });

const scopes = { comments: { filter: { kinds: [1111], '#K': ['web'] } } };

interface Running {
  daemon: IngestDaemon;
  pipeline: IngestPipeline;
}

function daemonOn(database: Database, relaySet: RelaySet, verifier: VerifyPool): Running {
  const pipeline = testPipeline(database, verifier, log, { retryDelayMs: 100, operationTimeoutMs: 10_000 });
  const daemon = new IngestDaemon({
    db: database.db,
    pipeline,
    relaySet,
    log,
    connect: (url) => new RelayConnection({ url, log, maxFrameBytes: 524_288, backoff: { minMs: 50, maxMs: 500 } }),
    openLockSession: () => database.session(),
    ownershipIntervalMs: 300,
    overlapSeconds: 30,
    clockMarginSeconds: 0,
    initialLookbackSeconds: 600,
    tickMs: 50,
    // No hole repair: a hole left by a takeover must show.
    repairIntervalMs: 0,
    fetchRelayInfo: false,
  });
  return { daemon, pipeline };
}

async function storedCount(database: Database): Promise<number> {
  const [row] = await query<{ n: string | number }>(database.db, sql`SELECT count(*) AS n FROM nostr_events WHERE kind = 1111`);
  return Number(row?.n);
}

/** Every relay's coverage of the scope is one range reaching `at`. */
async function coveredWithoutHole(database: Database, relays: TestRelay[], at: number): Promise<boolean> {
  for (const relay of relays) {
    const ranges = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    if (ranges.length === 0 || holes(ranges).length > 0 || ranges.at(-1)!.until < at) return false;
  }
  return true;
}

const publishEach = (relays: TestRelay[], perRelay: number, tag: string) => publish(relays, perRelay, tag, 'own');

const owned = (r: Running) => r.daemon.health().ownership.owned;

describe.each(engines)('relay ownership on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  const relays: TestRelay[] = [];
  const running: Running[] = [];
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.daemon.stop()));
    await Promise.all(relays.splice(0).map((r) => r.close()));
    await database?.destroy();
  });
  afterAll(async () => {
    await verifier?.close();
  });

  it('a single daemon owns every relay, primaries and fallbacks, reports it, and releases them when it stops', async () => {
    database = await createTestDatabase(driver);
    relays.push(await startTestRelay(), await startTestRelay(), await startTestRelay());
    const [p1, p2, fallback] = relays as [TestRelay, TestRelay, TestRelay];
    const relaySet = parseRelaySet({ primaries: [p1.url, p2.url], fallbacks: [fallback.url], scopes }, 'test');
    const one = daemonOn(database, relaySet, verifier);
    running.push(one);
    await one.daemon.start();
    const ownership = one.daemon.health().ownership;
    expect(ownership).toMatchObject({ owned: [p1.url, p2.url, fallback.url], ownedElsewhere: [], unowned: [], lastError: null });
    expect(ownership.sessionPid).not.toBeNull();
    // Owning a fallback does not mean reading it: only the primaries are connected.
    expect(one.daemon.health().relays.map((r) => r.url).sort()).toEqual([p1.url, p2.url].sort());
    const events = await publishEach([p1, p2], 5, 'single');
    await waitFor(async () => (await storedCount(database)) === events.length, 'events stored');

    await one.daemon.stop();
    const holders = await relayLockHolders(database.db);
    expect([...holders.mine, ...holders.others]).toEqual([]);
  });
});

// Sharing one database between daemons needs a database server: the PGlite leg has no second session.
describe.each(engines.filter((e) => e === 'postgres'))('daemons sharing one %s database', (driver) => {
  let database: TestDatabase;
  let second: Database | null = null;
  let verifier: VerifyPool;
  const relays: TestRelay[] = [];
  const running: Running[] = [];
  const children: DaemonProcess[] = [];
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await Promise.all(running.splice(0).map((r) => r.daemon.stop()));
    await second?.close();
    second = null;
    await Promise.all(relays.splice(0).map((r) => r.close()));
    await database?.destroy();
  });
  afterAll(async () => {
    await verifier?.close();
  });

  it('split the relays, store every event once, and one takes over from the other when it stops, without a hole', async () => {
    database = await createTestDatabase(driver);
    second = await openDatabase({ url: database.url, maxConnections: 4 });
    relays.push(await startTestRelay(), await startTestRelay(), await startTestRelay(), await startTestRelay());
    const primaries = relays.slice(0, 3);
    const all = relays.map((r) => r.url);
    const relaySet = parseRelaySet({ primaries: primaries.map((r) => r.url), fallbacks: [relays[3]!.url], scopes }, 'test');
    const a = daemonOn(database, relaySet, verifier);
    const b = daemonOn(second, relaySet, verifier);
    running.push(a, b);
    await Promise.all([a.daemon.start(), b.daemon.start()]);

    // Each relay owned by exactly one daemon, two each (the fair share), and each sees the other's
    // relays as owned elsewhere.
    await waitFor(() => {
      const [ha, hb] = [a.daemon.health().ownership, b.daemon.health().ownership];
      return (
        ha.owned.length === 2 &&
        hb.owned.length === 2 &&
        [...ha.owned, ...hb.owned].sort().join() === [...all].sort().join() &&
        [...ha.ownedElsewhere].sort().join() === [...hb.owned].sort().join() &&
        [...hb.ownedElsewhere].sort().join() === [...ha.owned].sort().join()
      );
    }, 'disjoint ownership');
    for (const r of [a, b]) {
      const connected = r.daemon.health().relays.map((s) => s.url);
      expect(connected.every((url) => owned(r).includes(url))).toBe(true);
    }

    const first = await publishEach(primaries, 15, 'split');
    await waitFor(async () => (await storedCount(database)) === first.length, 'first events stored');
    // Counted once each writer has its commit acknowledged, which may trail the rows being visible.
    await waitFor(() => a.pipeline.counts.accepted + b.pipeline.counts.accepted >= first.length, 'commits counted');
    // Every event was read by one daemon from one relay, once: no double work.
    expect(a.pipeline.counts.accepted + b.pipeline.counts.accepted).toBe(first.length);
    expect(a.pipeline.counts.duplicate + b.pipeline.counts.duplicate).toBe(0);
    // A scope is served somewhere for each daemon (here, or by the other one).
    await waitFor(() => [a, b].every((r) => r.daemon.health().scopes.every((s) => s.servedBy.length + s.servedElsewhere.length > 0)), 'scope served');

    // The daemon owning more primaries stops; what is published meanwhile must not be lost.
    const primaryCount = (r: Running) => owned(r).filter((url) => url !== relays[3]!.url).length;
    const [leaving, staying] = primaryCount(a) >= primaryCount(b) ? [a, b] : [b, a];
    await leaving.daemon.stop();
    running.splice(running.indexOf(leaving), 1);
    const during = await publishEach(primaries, 10, 'during');
    await waitFor(() => owned(staying).length === all.length, 'takeover of every relay');
    const after = await publishEach(primaries, 10, 'after');
    const total = first.length + during.length + after.length;
    await waitFor(async () => (await storedCount(database)) === total, 'every event stored');
    const lastAt = Math.max(...after.map((e) => e.created_at));
    await waitFor(() => coveredWithoutHole(database, primaries, lastAt), 'coverage without a hole on every relay');
  });

  it('do not count daemons of another database on the same server: each cache owns every relay', async () => {
    database = await createTestDatabase(driver);
    const other = await createTestDatabase(driver);
    try {
      relays.push(await startTestRelay(), await startTestRelay());
      const all = relays.map((r) => r.url);
      const relaySet = parseRelaySet({ primaries: all, scopes }, 'test');
      const a = daemonOn(database, relaySet, verifier);
      const b = daemonOn(other, relaySet, verifier);
      running.push(a, b);
      await Promise.all([a.daemon.start(), b.daemon.start()]);
      for (const r of [a, b]) {
        expect(r.daemon.health().ownership).toMatchObject({ owned: all, ownedElsewhere: [], unowned: [], daemons: 1 });
      }
      const events = await publishEach(relays, 5, 'two caches');
      await waitFor(async () => (await storedCount(database)) === events.length && (await storedCount(other)) === events.length, 'both caches complete');
    } finally {
      await Promise.all(running.splice(0).map((r) => r.daemon.stop()));
      await other.destroy();
    }
  });

  it('share the relays with a daemon process, and take its relays over when it is killed with SIGKILL, without a hole', async () => {
    database = await createTestDatabase(driver);
    relays.push(await startTestRelay(), await startTestRelay());
    const file = join(mkdtempSync(join(tmpdir(), 'nc-own-')), 'relays.json');
    writeFileSync(file, JSON.stringify({ primaries: relays.map((r) => r.url), scopes }));
    const child = await startIngest({
      DATABASE_URL: database.url!,
      RELAYS_FILE: file,
      INGEST_OWNERSHIP_INTERVAL_SECONDS: '1',
      INGEST_CLOCK_MARGIN_SECONDS: '0',
      INGEST_INITIAL_LOOKBACK_SECONDS: '600',
      VERIFY_WORKERS: '1',
    });
    children.push(child);
    await waitFor(async () => (await ingestReport(child))?.ownership.owned.length === relays.length, 'the child owns every relay');

    const b = daemonOn(database, parseRelaySet({ primaries: relays.map((r) => r.url), scopes }, 'test'), verifier);
    running.push(b);
    await b.daemon.start();
    // The child held both; with two daemons alive it hands one over.
    await waitFor(async () => {
      const child_ = (await ingestReport(child))?.ownership;
      const mine = b.daemon.health().ownership;
      return child_?.owned.length === 1 && mine.owned.length === 1 && mine.ownedElsewhere.join() === child_.owned.join();
    }, 'one relay each');
    // A relay is owned once its lock is taken and connected a few queries later.
    await waitFor(() => b.daemon.health().relays.map((r) => r.url).join() === owned(b).join(), 'connected to the relay it owns');

    const first = await publishEach(relays, 10, 'child');
    await waitFor(async () => (await storedCount(database)) === first.length, 'events stored by the child');
    child.child.kill('SIGKILL');
    await child.exited;
    const during = await publishEach(relays, 10, 'killed');
    await waitFor(() => owned(b).length === relays.length, 'takeover after the kill');
    const after = await publishEach(relays, 10, 'after-kill');
    const total = first.length + during.length + after.length;
    await waitFor(async () => (await storedCount(database)) === total, 'every event stored');
    const lastAt = Math.max(...after.map((e) => e.created_at));
    await waitFor(() => coveredWithoutHole(database, relays, lastAt), 'coverage without a hole');
  });

  it('stop serving relays whose lock session is lost, and serve them again once re-acquired, without a hole', async () => {
    database = await createTestDatabase(driver);
    relays.push(await startTestRelay());
    const one = daemonOn(database, parseRelaySet({ primaries: [relays[0]!.url], scopes }, 'test'), verifier);
    running.push(one);
    await one.daemon.start();
    const first = await publishEach(relays, 10, 'before-loss');
    await waitFor(async () => (await storedCount(database)) === first.length, 'events stored');
    const pid = one.daemon.health().ownership.sessionPid!;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin`SELECT pg_terminate_backend(${pid})`;
    } finally {
      await admin.end();
    }
    await waitFor(() => one.daemon.health().ownership.sessionsLost >= 1, 'the loss noticed');
    const during = await publishEach(relays, 10, 'during-loss');
    await waitFor(() => {
      const ownership = one.daemon.health().ownership;
      return ownership.owned.length === 1 && ownership.sessionPid !== null && ownership.sessionPid !== pid;
    }, 're-acquired on a new session');
    const after = await publishEach(relays, 10, 'after-loss');
    await waitFor(async () => (await storedCount(database)) === first.length + during.length + after.length, 'every event stored');
    const lastAt = Math.max(...after.map((e) => e.created_at));
    await waitFor(() => coveredWithoutHole(database, relays, lastAt), 'coverage without a hole');
  });
});
