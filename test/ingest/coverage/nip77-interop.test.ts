/**
 * NIP-77 with a strfry-like relay (issue 11, case 4), through the real connection, pipeline and
 * store, on both engines. The test relay's responder behaves as strfry runs hoytech/negentropy: a
 * 500,000-byte message limit, so its first answer on a large range is a NEG-MSG of ~1 MB on the
 * wire, over the ordinary frame limit (MAX_FRAME_BYTES, 512 KiB). And a relay that never answers
 * NEG-OPEN costs a backfill at most the short probe timeout, because paging runs meanwhile.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { query } from '../../../src/db/client.js';
import { backfill } from '../../../src/ingest/coverage/backfill.js';
import { nip77Knowledge } from '../../../src/ingest/coverage/negentropy.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { createLogger } from '../../../src/log.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import { loadCoverage, loadRelayLearned } from '../../../src/store/ingest-state.js';
import { burst } from '../../helpers/bursts.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { pipelineFor } from '../../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
vi.setConfig({ testTimeout: 240_000 });
const T = 1_760_000_000;
const filter = { kinds: [1111], '#K': ['web'] };

describe.each(engines)('NIP-77 with a strfry-like relay on %s', (driver) => {
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

  const connect = (url: string, extra: { maxNegFrameBytes?: number } = {}) => {
    connection = new RelayConnection({ url, log, maxFrameBytes: 524_288, ...extra });
    connection.start();
    return connection;
  };
  const count = async () => Number((await query<{ n: string }>(database.db, sql`SELECT count(*) AS n FROM nostr_events`))[0]!.n);
  const nip77Of = async (url: string) => nip77Knowledge((await loadRelayLearned(database.db, url))?.learned);

  it('reconciles 20,000 events in one range over a ~1 MB first NEG-MSG and fetches all of them', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ nip77: {} });
    const events = burst(20_000, { until: T, perSecond: 20, label: 'strfry' });
    expect(await relay.seed(events)).toBe(20_000);
    const c = connect(relay.url);
    const p = pipelineFor(database, verifier, log);
    const since = T - 2_000;
    const result = await backfill({ connection: c, relay: relay.url, scope: 'comments', filter }, { db: database.db, pipeline: p, log, since, until: T, pageLimit: 500 });

    expect(result.negentropy).toMatchObject({ reconciled: 1, missing: 20_000, fallback: null });
    expect(result.pages).toBe(0);
    expect(await count()).toBe(20_000);
    expect(c.state().rejects.frame_too_large).toBe(0);
    expect(await nip77Of(relay.url)).toMatchObject({ supported: true, error: null });
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[since, T]]);
  });

  it('with NEG frames held to the ordinary limit, the same first answer is dropped (what the separate limit fixes)', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ nip77: {} });
    await relay.seed(burst(20_000, { until: T, perSecond: 20, label: 'strfry' }));
    const c = connect(relay.url, { maxNegFrameBytes: 524_288 });
    const result = await backfill(
      { connection: c, relay: relay.url, scope: 'comments', filter },
      { db: database.db, pipeline: pipelineFor(database, verifier, log), log, since: T - 2_000, until: T, pageLimit: 500, negentropy: { timeoutMs: 2_000 } },
    );
    expect(c.state().rejects.frame_too_large).toBeGreaterThan(0);
    expect(result.negentropy.reconciled).toBe(0);
    expect(result.negentropy.fallback).toMatch(/no answer within 2000 ms/);
    expect(await count()).toBe(20_000); // paged instead
  });

  it('a relay that never answers NEG-OPEN costs at most the short probe timeout: paging ran meanwhile', async () => {
    database = await createTestDatabase(driver);
    relay = await startTestRelay({ nip11: false, nip77: { refuse: 'silent' } });
    const events = burst(300, { until: T, perSecond: 1, label: 'silent' });
    await relay.seed(events);
    const c = connect(relay.url);
    const started = Date.now();
    const result = await backfill(
      { connection: c, relay: relay.url, scope: 'comments', filter },
      { db: database.db, pipeline: pipelineFor(database, verifier, log), log, since: T - 1_000, until: T, pageLimit: 100, negentropy: { probeTimeoutMs: 1_000 } },
    );
    const elapsed = Date.now() - started;
    expect(relay.negentropyOpens).toHaveLength(1);
    expect(result.negentropy.fallback).toBe('no answer within 1000 ms');
    expect(result.pages).toBeGreaterThan(0);
    expect(await count()).toBe(300);
    // The session timeout (15 s) was not waited for.
    expect(elapsed).toBeLessThan(10_000);
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[T - 1_000, T]]);
  });
});
