/**
 * Learned relay behaviour, on both engines: what backfill and live connections observe is stored in
 * relays.learned, survives a restart, and sizes the next requests.
 * - A relay serving 5 events a page although asked 50: the page size is learned, and the next
 *   backfill asks 5 from its first page.
 * - A relay ignoring `until`: detected, recorded, and never paged backwards again.
 * - REQ ceiling, auth demands and rate limits seen by the daemon's connection: stored, and a
 *   restarted daemon starts its connection under the learned ceiling.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { finalizeEvent } from 'nostr-tools/pure';
import { query } from '../../../src/db/client.js';
import { backfill, RelayIgnoresUntilError } from '../../../src/ingest/coverage/backfill.js';
import { parseLearned } from '../../../src/ingest/fleet/capabilities.js';
import { IngestDaemon } from '../../../src/ingest/fleet/daemon.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { parseRelaySet } from '../../../src/ingest/fleet/relay-set.js';
import { loadCoverage, loadRelayLearned, mergeRelayLearned, recordCoverage } from '../../../src/store/ingest-state.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { createLogger } from '../../../src/log.js';
import { secretKeys } from '../../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { startMemoryRelay, type MemoryRelay } from '../../helpers/memory-relay.js';
import { pipelineFor, waitFor } from '../../helpers/ingest.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
vi.setConfig({ testTimeout: 180_000 });
const T = 1_760_000_000;

function comment(n: number, createdAt: number): NostrEvent {
  return finalizeEvent(
    {
      kind: 1111,
      created_at: createdAt,
      tags: [['I', 'https://clawstr.com/c/l'], ['K', 'web'], ['i', 'https://clawstr.com/c/l'], ['k', 'web']],
      content: `learned ${n}`,
    },
    secretKeys[n % 2 ? 'alice' : 'bob'],
  ) as NostrEvent;
}

async function storedCount(database: TestDatabase): Promise<number> {
  const rows = await query<{ n: string | number }>(database.db, sql`SELECT count(*) AS n FROM nostr_events`);
  return Number(rows[0]?.n);
}

async function learnedOf(database: TestDatabase, url: string) {
  return parseLearned((await loadRelayLearned(database.db, url))?.learned);
}

describe.each(engines)('learned relay behaviour on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  const relays: MemoryRelay[] = [];
  const connections: RelayConnection[] = [];
  const daemons: IngestDaemon[] = [];

  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await Promise.all(connections.splice(0).map((c) => c.stop()));
    await Promise.all(relays.splice(0).map((r) => r.close()));
    await database?.destroy();
  });
  afterAll(async () => {
    await verifier?.close();
  });

  function connect(url: string): RelayConnection {
    const connection = new RelayConnection({ url, log, maxFrameBytes: 524_288, rateLimitBackoff: { minMs: 50, maxMs: 100 } });
    connections.push(connection);
    return connection;
  }

  it('learns the page size a relay serves from a backfill, stores it, and asks that size first next time', async () => {
    database = await createTestDatabase(driver);
    const events = Array.from({ length: 23 }, (_, i) => comment(i, T - 2000 + i * 80));
    const relay = await startMemoryRelay(events, { maxLimit: 5 });
    relays.push(relay);
    const connection = connect(relay.url);
    connection.start();
    const target = (scope: string) => ({ connection, relay: relay.url, scope, filter: { kinds: [1111] } });
    const range = { since: T - 3000, until: T };

    const first = await backfill(target('first'), { db: database.db, pipeline: pipelineFor(database, verifier, log), log, ...range, pageLimit: 50 });
    expect(relay.requests[0]!.filters[0]!.limit).toBe(50);
    expect(first.learned).toMatchObject({ pageSize: 5, respectsUntil: true });
    expect(await storedCount(database)).toBe(events.length);
    // Stored: what a restarted process reads.
    expect(await learnedOf(database, relay.url)).toMatchObject({ pageSize: 5, respectsUntil: true });

    // Another scope over the same relay: nothing covered yet, so it pages again, asking 5 at once.
    const asked = relay.requests.length;
    const second = await backfill(target('second'), { db: database.db, pipeline: pipelineFor(database, verifier, log), log, ...range, pageLimit: 50 });
    expect(second.pageLimit).toBe(5);
    expect(relay.requests.slice(asked).every((r) => r.filters[0]!.limit === 5)).toBe(true);
    expect(relay.requests.length).toBeGreaterThan(asked);
    expect((await loadCoverage(database.db, { relay: relay.url, scope: 'second' })).map((r) => [r.since, r.until])).toEqual([[range.since, range.until]]);

    // Learned long ago: due for a re-check, so the next backfill asks full pages again and stores
    // what it finds (the same size here), dated today: trusted for another period.
    await mergeRelayLearned(database.db, relay.url, { pageSize: 5, pageSizeLearnedAt: new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString() });
    const before = relay.requests.length;
    const third = await backfill(target('third'), { db: database.db, pipeline: pipelineFor(database, verifier, log), log, ...range, pageLimit: 50 });
    expect(third.pageLimit).toBe(50);
    expect(relay.requests[before]!.filters[0]!.limit).toBe(50);
    const relearned = await learnedOf(database, relay.url);
    expect(relearned.pageSize).toBe(5);
    expect(Date.now() - Date.parse(relearned.pageSizeLearnedAt!)).toBeLessThan(3600 * 1000);
  });

  it('detects a relay that ignores until, records it, and refuses to page it backwards again', async () => {
    database = await createTestDatabase(driver);
    const events = Array.from({ length: 20 }, (_, i) => comment(i, T - 2000 + i * 90));
    const relay = await startMemoryRelay(events, { maxLimit: 5, ignoreUntil: true });
    relays.push(relay);
    const connection = connect(relay.url);
    connection.start();
    const run = () =>
      backfill(
        { connection, relay: relay.url, scope: 'comments', filter: { kinds: [1111] } },
        { db: database.db, pipeline: pipelineFor(database, verifier, log), log, since: T - 3000, until: T, pageLimit: 50 },
      );

    await expect(run()).rejects.toBeInstanceOf(RelayIgnoresUntilError);
    expect(await learnedOf(database, relay.url)).toMatchObject({ respectsUntil: false });
    // Only the first page (asked up to the range end, so it could not break the rule) is covered;
    // the range below it stays a hole.
    const newest = events.slice(-5);
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[newest[0]!.created_at + 1, T]]);

    let asked = relay.requests.length;
    await expect(run()).rejects.toThrow(/ignores "until"/);
    expect(relay.requests.length).toBe(asked);

    // Found a week and a day ago: tested again (one page, the relay still ignores it), dated anew.
    await mergeRelayLearned(database.db, relay.url, { untilCheckedAt: new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString() });
    await expect(run()).rejects.toBeInstanceOf(RelayIgnoresUntilError);
    expect(relay.requests.length).toBeGreaterThan(asked);
    const rechecked = await learnedOf(database, relay.url);
    expect(rechecked.respectsUntil).toBe(false);
    expect(Date.now() - Date.parse(rechecked.untilCheckedAt!)).toBeLessThan(3600 * 1000);
    asked = relay.requests.length;

    // An older covered range leaves a hole below the first page: the daemon reports it and leaves
    // it alone instead of paging the relay backwards.
    await database.writer.transaction((tx) => recordCoverage(tx, relay.url, 'comments', { since: T - 5000, until: T - 4000 }).then(() => undefined));
    const daemon = new IngestDaemon({
      db: database.db,
      pipeline: pipelineFor(database, verifier, log),
      relaySet: parseRelaySet({ primaries: [relay.url], scopes: { comments: { filter: { kinds: [1111] } } } }, 'test'),
      log,
      connect,
      openLockSession: () => database.session(),
      fetchRelayInfo: false,
      initialLookbackSeconds: 60,
      clockMarginSeconds: 0,
      tickMs: 50,
      repairIntervalMs: 100,
    });
    daemons.push(daemon);
    await daemon.start();
    await waitFor(() => daemon.repairs.length > 0, 'the hole reported');
    expect(daemon.repairs[0]).toMatchObject({ relay: relay.url, events: 0, error: expect.stringMatching(/ignores "until"/) });
    expect(daemon.health().learned[relay.url]).toMatchObject({ respectsUntil: false });
    expect((daemon.health().scopes[0]!.holes[relay.url] ?? []).length).toBeGreaterThan(0);
    // No REQ after the refused backfill pages backwards: only the live one (no `until`).
    expect(relay.requests.slice(asked).every((r) => r.filters[0]!.until === undefined)).toBe(true);
  });

  it('stores the REQ ceiling, auth demand and rate limits a relay showed, and a restarted daemon starts under that ceiling', async () => {
    database = await createTestDatabase(driver);
    // First connection: `a` is rate-limited once, `b` meets the REQ ceiling while `c` is open, `c`
    // wants AUTH (the daemon has no key). Later connections: a plain relay.
    const relay = await startMemoryRelay([], {
      maxLimit: 100,
      respond: (id, seen) => {
        if (seen > 0) return undefined;
        if (id === 'a') return [['CLOSED', 'a', 'rate-limited: slow down']];
        if (id === 'b') return [['CLOSED', 'b', 'error: too many concurrent REQs']];
        if (id === 'c') return [['CLOSED', 'c', 'auth-required: members only']];
        return undefined;
      },
    });
    relays.push(relay);
    const relaySet = parseRelaySet(
      { primaries: [relay.url], scopes: { a: { filter: { kinds: [1] } }, b: { filter: { kinds: [7] } }, c: { filter: { kinds: [1111] } } } },
      'test',
    );
    const start = async () => {
      const daemon = new IngestDaemon({
        db: database.db,
        pipeline: pipelineFor(database, verifier, log),
        relaySet,
        log,
        connect,
        openLockSession: () => database.session(),
        fetchRelayInfo: false,
        initialLookbackSeconds: 60,
        tickMs: 50,
      });
      daemons.push(daemon);
      await daemon.start();
      return daemon;
    };

    const first = await start();
    await waitFor(async () => {
      const learned = await learnedOf(database, relay.url);
      return learned.reqCeiling === 1 && learned.authRequired === true && learned.rateLimited?.count === 1;
    }, 'learned values stored');
    expect(first.health().learned[relay.url]).toMatchObject({ reqCeiling: 1, authRequired: true, rateLimited: { count: 1 } });
    await first.stop();

    const second = await start();
    // Before any reply on the new connection, the learned ceiling is in force.
    expect(second.health().relays[0]!.maxSubscriptions).toBe(1);
    await waitFor(() => {
      const state = second.health().relays[0]!;
      return state.status === 'connected' && state.activeSubscriptions === 1 && state.queuedSubscriptions === 2;
    }, 'one REQ open, two queued under the learned ceiling');
    // The relays row keeps the auth demand too (status writes are asynchronous: wait for them).
    await waitFor(async () => {
      const [row] = await query<{ auth_required: boolean }>(database.db, sql`SELECT auth_required FROM relays WHERE url = ${relay.url}`);
      return row?.auth_required === true;
    }, 'auth_required kept');
    expect(second.health().learned[relay.url]).toMatchObject({ reqCeiling: 1, authRequired: true, rateLimited: { count: 1 } });
  });
});
