/**
 * The audit against the test relay (@nostr-relay/core with its own caps: 100 without `limit`,
 * 1,000 with), on both engines, by id paging and by NIP-77 (the responder as strfry runs it):
 * it finds exactly the events removed from the cache by hand and the cache's events the relay
 * lacks, and nothing on a complete cache.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { query } from '../../../src/db/client.js';
import { auditScope, type AuditOptions } from '../../../src/ingest/audit/audit.js';
import { auditExitCode } from '../../../src/ingest/audit/diff.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { createLogger } from '../../../src/log.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import { burst } from '../../helpers/bursts.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { pipelineFor } from '../../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const T = 1_760_000_000;
const FILTER = { kinds: [1111], '#K': ['web'] };

describe.each(engines)('audit on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  let relay: TestRelay | null = null;
  let connection: RelayConnection | null = null;
  beforeAll(async () => {
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterAll(async () => {
    await verifier?.close();
  });
  afterEach(async () => {
    await connection?.stop();
    await relay?.close();
    await database?.destroy();
    connection = null;
    relay = null;
  });

  async function store(events: readonly NostrEvent[]): Promise<void> {
    const p = pipelineFor(database, verifier, log);
    for (const event of events) await p.submit({ value: event, relay: null });
    await p.flush();
    expect(p.counts.accepted).toBe(events.length);
  }

  async function removeByHand(ids: readonly string[]): Promise<void> {
    const list = sql.join(ids.map((id) => sql`${id}`), sql`, `);
    await query(database.db, sql`DELETE FROM event_relays WHERE event_id IN (${list})`);
    await query(database.db, sql`DELETE FROM nostr_events WHERE event_id IN (${list})`);
  }

  function connect(url: string): RelayConnection {
    connection = new RelayConnection({ url, log, maxFrameBytes: 1_100_000 });
    connection.start();
    return connection;
  }

  const audit = (method: AuditOptions['method'], nip77: boolean | null) =>
    auditScope(
      { connection: connection!, relay: relay!.url, scope: 'comments', filter: FILTER },
      { db: database.db, since: T - 3_600, until: T, method, nip77, pageSize: 1_000, timeoutMs: 15_000 },
    );

  for (const withNip77 of [false, true]) {
    it(`finds exactly the events removed by hand and the cache's own, nothing on a complete cache (${withNip77 ? 'NIP-77' : 'id paging'})`, async () => {
      database = await createTestDatabase(driver);
      relay = await startTestRelay({ caps: 'engine', nip11: false, ...(withNip77 ? { nip77: {} } : {}) });
      // 1,500 posts: more than one page of the relay's 1,000 with limit.
      const events = burst(1_500, { until: T - 10, perSecond: 2, label: `audit ${withNip77}` });
      await relay.seed(events);
      await store(events);
      connect(relay.url);
      const method = withNip77 ? 'nip77' : 'paging';

      const complete = await audit(method, withNip77);
      expect(complete).toMatchObject({ method, relayCount: 1_500, cacheCount: 1_500, missingInCache: [], missingOnRelay: [], incompleteSeconds: [] });
      expect(auditExitCode([complete])).toBe(0);

      const removed = [events[3]!, events[700]!, events[1_499]!];
      await removeByHand(removed.map((e) => e.id));
      const onlyHere = burst(2, { until: T - 5, label: `cache only ${withNip77}` });
      await store(onlyHere);
      const found = await audit(method, withNip77);
      expect(found.method).toBe(method);
      expect(found.missingInCache.map((k) => k.id).sort()).toEqual(removed.map((e) => e.id).sort());
      expect(found.missingOnRelay.map((k) => k.id).sort()).toEqual(onlyHere.map((e) => e.id).sort());
      expect(found.missingInCache[0]).toEqual({ id: events[1_499]!.id, createdAt: events[1_499]!.created_at });
      expect(found).toMatchObject({ relayCount: 1_500, cacheCount: 1_499 });
      expect(auditExitCode([found])).toBe(1);
    }, 240_000);
  }

  it("'auto' reconciles where NIP-77 is known, pages where it is not, and pages when the relay refuses NEG-OPEN", async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ caps: 'engine', nip77: { refuse: 'notice' } });
    const events = burst(50, { until: T - 10, label: 'auto' });
    await relay.seed(events);
    await store(events.slice(1));
    connect(relay.url);
    const unknown = await audit('auto', null);
    expect(unknown).toMatchObject({ method: 'paging', fallback: 'NIP-77 support unknown' });
    const refused = await audit('auto', true);
    expect(refused.method).toBe('paging');
    expect(refused.fallback).toMatch(/^NIP-77 failed: notice: ERROR: bad msg: negentropy disabled/);
    for (const result of [unknown, refused]) expect(result.missingInCache.map((k) => k.id)).toEqual([events[0]!.id]);
  }, 120_000);
});
