/**
 * Late arrivals (issue 11, case 3), end to end with the daemon in process, on both engines: events
 * put into the relay's storage (no live delivery, as a relay syncing from another does) ten
 * minutes after their created_at, inside a range the daemon has already covered, are fetched by
 * the settle window (short windows configured here), by paging where the relay has no NIP-77 and
 * by reconciliation where it has. A reconnect re-checks the shortest window at once, whenever it
 * was last proven.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { query } from '../../../src/db/client.js';
import { IngestDaemon } from '../../../src/ingest/fleet/daemon.js';
import { parseRelaySet } from '../../../src/ingest/fleet/relay-set.js';
import type { SettleWindow } from '../../../src/ingest/coverage/settle-window.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { createLogger } from '../../../src/log.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import { loadProofs } from '../../../src/store/coverage-proofs.js';
import { burst } from '../../helpers/bursts.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { testPipeline, waitFor } from '../../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
vi.setConfig({ testTimeout: 180_000 });
const now = () => Math.floor(Date.now() / 1000);

describe.each(engines)('settle window on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  let relay: TestRelay | null = null;
  let daemon: IngestDaemon | null = null;
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterAll(async () => {
    await verifier?.close();
  });
  afterEach(async () => {
    await daemon?.stop();
    await relay?.close();
    await database?.destroy();
    daemon = null;
    relay = null;
  });

  async function start(windows: SettleWindow[]): Promise<IngestDaemon> {
    const relaySet = parseRelaySet({ primaries: [relay!.url], scopes: { posts: { filter: { kinds: [1111], '#K': ['web'] } } } }, 'test');
    daemon = new IngestDaemon({
      db: database.db,
      pipeline: testPipeline(database, verifier, log),
      relaySet,
      log,
      openLockSession: () => database.session(),
      connect: (url) => new RelayConnection({ url, log, maxFrameBytes: 524_288, backoff: { minMs: 50, maxMs: 500 } }),
      ownershipIntervalMs: 200,
      overlapSeconds: 30,
      clockMarginSeconds: 0,
      initialLookbackSeconds: 3_600,
      tickMs: 100,
      repairIntervalMs: 0,
      settleWindows: windows,
    });
    await daemon.start();
    return daemon;
  }

  const storedIds = async () => new Set((await query<{ event_id: string }>(database.db, sql`SELECT event_id FROM nostr_events`)).map((r) => r.event_id));
  const scopeHealth = (d: IngestDaemon) => d.health().scopes.find((s) => s.scope === 'posts')!;

  it.each([
    ['paging', false],
    ['NIP-77', true],
  ])('fetches events that reach the relay 10 minutes late into a covered range, within the settle window (%s)', async (_label, nip77) => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay(nip77 ? { nip77: {} } : {});
    const d = await start([{ spanSeconds: 900, everySeconds: 2 }]);
    // Covered live up to now: the late events' seconds are proven (as they were then) before they arrive.
    const coveredFrom = now() - 600;
    await waitFor(() => (scopeHealth(d).coveredUntil ?? 0) >= now() - 1 && (d.health().scopes[0]!.ranges[relay!.url]?.[0]?.since ?? Infinity) < coveredFrom, 'live coverage');
    const late = burst(100, { until: now() - 600, perSecond: 10, label: `late ${driver} ${nip77}` });
    const before = new Set(d.health().settle);
    await relay.seed(late);

    // The check's record is kept once its backfill has ended, after the events are stored.
    await waitFor(async () => {
      const ids = await storedIds();
      return late.every((e) => ids.has(e.id)) && d.health().settle.some((c) => !before.has(c) && c.events > 0);
    }, 'the late events');
    const checks = d.health().settle.filter((c) => !before.has(c));
    expect(checks.some((c) => c.events > 0 && c.range.since <= late[0]!.created_at && c.range.until >= late.at(-1)!.created_at)).toBe(true);
    if (nip77) expect(checks.filter((c) => c.events > 0).every((c) => c.method === 'nip77')).toBe(true);
    expect(checks.every((c) => c.error === undefined)).toBe(true);
    expect(Object.values(scopeHealth(d).holes).flat()).toEqual([]);
    // The re-check recorded when it proved the range.
    const proofs = await loadProofs(database.db, { relay: relay.url });
    expect(proofs.some((p) => p.since <= late[0]!.created_at && p.until >= late.at(-1)!.created_at && p.provenAt >= now() - 60)).toBe(true);
  });

  it('a reconnect re-checks the shortest window at once, though it was proven moments ago', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay();
    // Not due again for 10 minutes once re-checked: only the reconnect can fetch what comes next.
    const d = await start([{ spanSeconds: 1_800, everySeconds: 600 }]);
    await waitFor(() => d.health().settle.some((c) => c.error === undefined), 'the first re-check');
    const late = burst(50, { until: now() - 600, perSecond: 10, label: `reconnect ${driver}` });
    const before = new Set(d.health().settle);
    await relay.seed(late);
    relay.dropConnections();

    await waitFor(async () => {
      const ids = await storedIds();
      return late.every((e) => ids.has(e.id)) && d.health().settle.some((c) => !before.has(c) && c.events > 0);
    }, 'the late events after the reconnect');
    const checks = d.health().settle.filter((c) => !before.has(c));
    expect(checks.some((c) => c.reason === 'resubscribed' && c.events >= late.length)).toBe(true);
    expect(checks.some((c) => c.reason === 'due')).toBe(false);
  });
});
