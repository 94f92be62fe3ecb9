/**
 * Issue 11, cases 1 and 2, end to end: the daemon as a process against @nostr-relay/core with its
 * own caps (a REQ without `limit` gets the newest 100, one with `limit` up to 1,000), SIGKILLed,
 * a burst arriving at the relay while it is down, then restarted. Every event must end stored
 * exactly once, with no hole left in /health/ingest, within a bound; a relay advertising
 * max_limit 1,000 must not have its answer taken for complete unless the REQ asked for that many;
 * and the hole a capped catch-up leaves must survive a SIGKILL in the middle of its repair.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase, query, type Database } from '../../src/db/client.js';
import type { IngestReport } from '../../src/ingest/service.js';
import { isCovered, mergeRanges } from '../../src/ranges.js';
import { loadCoverage, loadHoles } from '../../src/store/ingest-state.js';
import { burst } from '../helpers/bursts.js';
import { ingestReport, startIngest, type DaemonProcess } from '../helpers/daemon-process.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { startTestRelay, type TestRelay } from '../helpers/relay.js';
import { waitFor } from '../helpers/wait-for.js';

const SCOPE = 'comments';
/** How long a restarted daemon may take to store a burst and prove it (a loaded 2-core machine). */
const BOUND_MS = 90_000;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const scopeOf = (report: IngestReport | null) => report?.scopes.find((s) => s.scope === SCOPE);
const holesIn = (report: IngestReport | null) => Object.values(scopeOf(report)?.holes ?? {}).flat();

describe.each(engines)('a burst while the daemon is down, capped catch-up, on %s', (driver) => {
  let relay: TestRelay | null = null;
  let database: TestDatabase | null = null;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await relay?.close();
    relay = null;
    await database?.destroy();
    database = null;
  });

  /** The daemon's environment, on a fresh database of this engine; `open` reads it while no daemon runs. */
  async function setUp(r: TestRelay): Promise<{ env: Record<string, string>; open: () => Promise<{ db: Database['db']; close(): Promise<void> }> }> {
    const relays = join(mkdtempSync(join(tmpdir(), 'nc-capped-')), 'relays.json');
    writeFileSync(relays, JSON.stringify({ primaries: [r.url], scopes: { [SCOPE]: { filter: { kinds: [1111], '#K': ['web'] } } } }));
    const common = { RELAYS_FILE: relays, INGEST_CLOCK_MARGIN_SECONDS: '0', VERIFY_WORKERS: '1' };
    if (driver === 'postgres') {
      database = await createTestDatabase('postgres');
      const db = database;
      return { env: { ...common, DATABASE_URL: db.url! }, open: async () => ({ db: db.db, close: async () => {} }) };
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'nc-capped-data-'));
    return {
      env: { ...common, NOSTR_CACHE_DATA_DIR: dataDir },
      open: async () => {
        const opened = await openDatabase({ dataDir });
        return { db: opened.db, close: () => opened.close() };
      },
    };
  }

  async function start(env: Record<string, string>): Promise<DaemonProcess> {
    const d = await startIngest(env);
    children.push(d.child);
    return d;
  }

  /** A first life that covers the scope up to now, then SIGKILL. */
  async function liveThenKilled(env: Record<string, string>): Promise<void> {
    const first = await start(env);
    await waitFor(async () => {
      const c = scopeOf(await ingestReport(first))?.coveredUntil ?? null;
      // Live coverage advances every 5 s; the burst is dated after the kill, so any recent point will do.
      return c !== null && nowSeconds() - c <= 30;
    }, 'the first daemon covering the scope');
    first.child.kill('SIGKILL');
    await first.exited;
  }

  /**
   * `count` events created after the first life's coverage, put on the relay while no daemon runs:
   * spread over 5 s, so no second holds a whole page (500; such a second only NIP-77 can list).
   */
  async function burstWhileDown(r: TestRelay, count: number, label: string) {
    const since = nowSeconds();
    await waitFor(() => nowSeconds() >= since + 5, 'five seconds of downtime', 15_000);
    const until = nowSeconds();
    const events = burst(count, { until, perSecond: Math.ceil(count / 5), label });
    expect(await r.seed(events)).toBe(count);
    return { events, until };
  }

  /** Stored exactly once: the cache holds every event the relay holds for the scope, no more, no twice. */
  async function expectStoredOnce(open: Awaited<ReturnType<typeof setUp>>['open'], r: TestRelay): Promise<void> {
    const check = await open();
    try {
      const rows = await query<{ event_id: string }>(check.db, sql`SELECT event_id FROM nostr_events WHERE kind = 1111`);
      const ids = rows.map((x) => x.event_id).sort();
      expect(new Set(ids).size).toBe(ids.length);
      const held = (await r.storedEvents()).filter((e) => e.kind === 1111).map((e) => e.id).sort();
      expect(ids).toEqual(held);
      expect(await loadHoles(check.db)).toEqual([]);
    } finally {
      await check.close();
    }
  }

  /** Restarts and waits until coverage passes `until` with no hole reported: the burst is proven. */
  async function restartUntilConsistent(env: Record<string, string>, until: number): Promise<{ daemon: DaemonProcess; ms: number; report: IngestReport }> {
    const restartedAt = Date.now();
    const daemon = await start(env);
    const report = await waitFor(
      async () => {
        const r = await ingestReport(daemon);
        const covered = scopeOf(r)?.coveredUntil ?? null;
        return r && covered !== null && covered >= until && holesIn(r).length === 0 && r.queue.buffered === 0 ? r : null;
      },
      'coverage past the burst with no hole',
      BOUND_MS,
    );
    return { daemon, ms: Date.now() - restartedAt, report };
  }

  it.each([
    // No NIP-11: the page size is unknown, so the catch-up asks 500; 1,200 events make it full.
    { nip11: false, events: 1200 },
    // The second case: max_limit 1,000 advertised, 100 served without `limit`. The REQ
    // asks 1,000, so the 300-event answer is complete for what was asked.
    { nip11: true, events: 300 },
  ])('stores every event of the burst exactly once, with no hole left (NIP-11: $nip11, $events events)', async ({ nip11, events: count }) => {
    relay = await startTestRelay({ caps: 'engine', nip11 });
    const { env, open } = await setUp(relay);
    await liveThenKilled(env);
    const { until } = await burstWhileDown(relay, count, `burst ${driver} ${String(nip11)}`);
    const requestsBefore = relay.requests.length;

    const { daemon, ms, report } = await restartUntilConsistent(env, until);
    expect(ms).toBeLessThan(BOUND_MS);
    // The catch-up REQ carried an explicit limit: never judged by a cap nobody knows.
    const catchUp = relay.requests.slice(requestsBefore).find((filters) => filters.some((f) => f.since !== undefined && f.until === undefined));
    expect(catchUp?.[0]?.limit).toBe(nip11 ? 1000 : 500);
    if (!nip11) {
      // The full answer was taken as capped and its older part repaired at once (not a minute later).
      expect(report.repairs.some((r) => !r.error && r.events > 0)).toBe(true);
    }
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    await expectStoredOnce(open, relay);
  }, 300_000);

  it('keeps the hole a capped catch-up left across a SIGKILL during its repair, and repairs it after', async () => {
    relay = await startTestRelay({ caps: 'engine', nip11: false });
    const { env, open } = await setUp(relay);
    await liveThenKilled(env);
    const { until, events } = await burstWhileDown(relay, 1500, `burst ${driver} kill-in-repair`);

    // The catch-up answer (500) and EOSE go through; the repair's first page stops after 100.
    const hold = relay.holdDelivery(600);
    const second = await start(env);
    const hole = await waitFor(async () => holesIn(await ingestReport(second))[0], 'the hole reported in health');
    await waitFor(async () => ((await ingestReport(second))?.outcomes.accepted ?? 0) >= 500, 'the catch-up answer stored');
    // /ready says why it is not ready.
    const ready = (await (await fetch(`http://127.0.0.1:${second.port}/ready`)).json()) as { ready: boolean; problems: Array<{ problem: string }> };
    expect(ready.ready).toBe(false);
    expect(ready.problems.some((p) => /coverage hole/.test(p.problem))).toBe(true);
    second.child.kill('SIGKILL');
    await second.exited;
    hold.release();

    const killed = await open();
    try {
      const stored = await loadHoles(killed.db);
      expect(stored.map(({ since, until: u }) => ({ since, until: u }))).toContainEqual(hole);
      // The hole is the part of the downtime the capped answer did not reach: from the old
      // coverage to its oldest second (inclusive: that second may have been cut).
      expect(hole.since).toBeLessThanOrEqual(events[0]!.created_at);
      expect(hole.until).toBeLessThanOrEqual(until);
      // Nothing bridged it: its seconds are not covered.
      const ranges = mergeRanges(await loadCoverage(killed.db, { scope: SCOPE }));
      expect(isCovered(ranges, hole)).toBe(false);
    } finally {
      await killed.close();
    }

    const { daemon } = await restartUntilConsistent(env, until);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    await expectStoredOnce(open, relay);
  }, 300_000);
});
