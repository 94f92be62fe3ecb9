/**
 * A hung relay owner (issue 15, item 9): two daemon processes on one Postgres, each renewing its
 * lease every interval. The owner of a relay is stopped with SIGSTOP (its Postgres session, and so
 * its advisory locks, stay alive): the other ends that session once the lease lapses and takes the
 * relay over, and what is published meanwhile is stored exactly once. SIGCONT: the stopped daemon
 * finds its session gone, writes no coverage for relays it lost (the fence checks lock and lease),
 * and when the relays are rebalanced the survivor gives back the relay it took over, keeping the one
 * it served without a break.
 *
 * Postgres only: on PGlite one process owns every relay and has no lease (nobody could take over).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { query } from '../../../src/db/client.js';
import { holes } from '../../../src/ranges.js';
import { loadCoverage } from '../../../src/store/ingest-state.js';
import { ingestReport, startIngest, type DaemonProcess } from '../../helpers/daemon-process.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { publishEach, waitFor } from '../../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';

vi.setConfig({ testTimeout: 300_000 });

const INTERVAL_SECONDS = 1;
const LEASE_SECONDS = 2;
const scopes = { comments: { filter: { kinds: [1111], '#K': ['web'] } } };

describe.each(engines.filter((e) => e === 'postgres'))('a hung relay owner on %s', (driver) => {
  let database: TestDatabase | undefined;
  const relays: TestRelay[] = [];
  const children: DaemonProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode !== null) continue;
      c.child.kill('SIGCONT');
      c.child.kill('SIGKILL');
      await c.exited;
    }
    await Promise.all(relays.splice(0).map((r) => r.close()));
    await database?.destroy();
  });

  it('is taken over within about two intervals of its lease lapsing, loses its session when it resumes, and gets back the relay taken over', async () => {
    database = await createTestDatabase(driver);
    const db = database.db;
    relays.push(await startTestRelay(), await startTestRelay());
    const urls = relays.map((r) => r.url);
    const file = join(mkdtempSync(join(tmpdir(), 'nc-hung-')), 'relays.json');
    writeFileSync(file, JSON.stringify({ primaries: urls, scopes }));
    const env = {
      DATABASE_URL: database.url!,
      RELAYS_FILE: file,
      INGEST_OWNERSHIP_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
      INGEST_LEASE_SECONDS: String(LEASE_SECONDS),
      INGEST_CLOCK_MARGIN_SECONDS: '0',
      INGEST_INITIAL_LOOKBACK_SECONDS: '600',
      LOG_LEVEL: 'info',
      VERIFY_WORKERS: '1',
    };
    const a = await startIngest(env, { captureStderr: true });
    children.push(a);
    await waitFor(async () => (await ingestReport(a))?.ownership.owned.length === 2, 'the first daemon owns both relays');
    const b = await startIngest(env, { captureStderr: true });
    children.push(b);
    const report = async (d: DaemonProcess) => (await ingestReport(d))?.ownership;
    await waitFor(async () => {
      const [ra, rb] = [await report(a), await report(b)];
      return ra?.owned.length === 1 && rb?.owned.length === 1 && ra.owned[0] !== rb.owned[0];
    }, 'one relay each');
    const taken = (await report(a))!.owned[0]!; // A's: B takes it over while A hangs
    const kept = (await report(b))!.owned[0]!; // B's: served without a break
    await waitFor(async () => (await ingestReport(b))?.relays.map((r) => r.url).join() === kept, 'B connected to its relay');
    const stored = async () => Number((await query<{ n: string }>(db, sql`SELECT count(*) AS n FROM nostr_events WHERE kind = 1111`))[0]!.n);

    const first = await publishEach(relays, 10, 'before');
    await waitFor(async () => (await stored()) === first.length, 'events stored by both');
    const aPid = (await report(a))!.sessionPid!;

    // A hangs: its Postgres session (and its locks) stay alive.
    a.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const during = await publishEach(relays, 10, 'during');
    await waitFor(async () => (await report(b))?.owned.length === 2, 'B takes the hung owner’s relay over', 60_000);
    const takeoverMs = Date.now() - stoppedAt;
    console.log(`takeover ${takeoverMs} ms after SIGSTOP (lease ${LEASE_SECONDS} s, interval ${INTERVAL_SECONDS} s)`);
    // The lease lapses at most LEASE_SECONDS after the last renewal; B's next sweeps end the
    // session and take the lock. Generous for a loaded machine: lease + 6 intervals.
    expect(takeoverMs).toBeLessThan((LEASE_SECONDS + 6 * INTERVAL_SECONDS) * 1000);
    expect((await report(b))!.staleOwnersEnded).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await stored()) === first.length + during.length, 'what was published meanwhile stored');

    // A resumes: its session was ended, so it lost every lock; rebalanced, B gives back `taken`.
    a.child.kill('SIGCONT');
    await waitFor(async () => {
      const ra = await report(a);
      return ra !== undefined && ra.sessionsLost >= 1 && ra.sessionPid !== null && ra.sessionPid !== aPid;
    }, 'A noticed its session gone and opened a new one');
    await waitFor(async () => {
      const [ra, rb] = [await report(a), await report(b)];
      return ra?.owned.join() === taken && rb?.owned.join() === kept;
    }, 'the relay taken over handed back; the one B kept stays');
    // B handed over only the relay it took over, never the one it served throughout.
    const bHandovers = b.stderr.map((l) => safeJson(l)).filter((l) => l?.msg === 'relay ownership handed over');
    expect(bHandovers.map((l) => l!.relays)).toEqual([[taken]]);
    // A wrote no coverage for relays it no longer held: any it tried after resuming was refused.
    const refused = a.stderr.map((l) => safeJson(l)).filter((l) => l?.msg === 'coverage not recorded: relay no longer owned');
    console.log(`coverage writes refused by the fence in the resumed daemon: ${refused.length}`);
    expect(a.stderr.some((l) => /lock session (lost|failed)/.test(l))).toBe(true);

    const after = await publishEach(relays, 10, 'after');
    const total = first.length + during.length + after.length;
    await waitFor(async () => (await stored()) === total, 'every event stored once');
    const ids = new Set([...first, ...during, ...after].map((e) => e.id));
    const rows = await query<{ event_id: string }>(db, sql`SELECT event_id FROM nostr_events WHERE kind = 1111`);
    expect(new Set(rows.map((r) => r.event_id))).toEqual(ids);
    const lastAt = Math.max(...after.map((e) => e.created_at));
    await waitFor(async () => {
      for (const url of urls) {
        const ranges = await loadCoverage(db, { relay: url, scope: 'comments' });
        if (ranges.length === 0 || holes(ranges).length > 0 || ranges.at(-1)!.until < lastAt) return false;
      }
      return true;
    }, 'coverage without a hole on both relays');
    // One lease per live daemon: A's ended session left none behind.
    const leases = await query<{ pid: number }>(db, sql`SELECT pid FROM daemon_leases`);
    expect(leases.map((l) => Number(l.pid))).not.toContain(aPid);
  });
});

function safeJson(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}
