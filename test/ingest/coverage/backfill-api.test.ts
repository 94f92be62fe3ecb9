/**
 * Backfill over the API: POST /v1/backfill starts a job in the ingest process, GET /v1/backfill/{id}
 * follows it to completion; the events land in the cache and the range is covered. Token required;
 * 400 names the bad field; 503 where ingest does not run. `audit: true` compares only (what the
 * cache lacks, and the reverse); `recheck: true` fetches what a covered range lacks.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { finalizeEvent } from 'nostr-tools/pure';
import { query } from '../../../src/db/client.js';
import { BackfillJobs } from '../../../src/ingest/coverage/backfill-jobs.js';
import { IngestPipeline } from '../../../src/ingest/pipeline/pipeline.js';
import { RelayConnection } from '../../../src/ingest/relay/connection.js';
import { parseRelaySet } from '../../../src/ingest/fleet/relay-set.js';
import { loadCoverage } from '../../../src/store/ingest-state.js';
import { VerifyPool } from '../../../src/nostr/verify-pool.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { createLogger } from '../../../src/log.js';
import { controlRoutes } from '../../../src/api/routes/control/index.js';
import { backfillRoutes } from '../../../src/api/routes/backfill.js';
import { secretKeys } from '../../fixtures/hand-built.js';
import { createHarness, type Harness } from '../../control/helpers.js';
import { engines } from '../../helpers/engines.js';
import { startTestRelay, type TestRelay } from '../../helpers/relay.js';
import { waitFor } from '../../helpers/ingest.js';
import { testNormalizeOptions } from '../../helpers/store.js';

const log = createLogger('silent');
vi.setConfig({ testTimeout: 180_000 });
const T = 1_750_000_000;

function comment(n: number): NostrEvent {
  return finalizeEvent(
    {
      kind: 1111,
      created_at: T + n * 60,
      tags: [['I', 'https://clawstr.com/c/old'], ['K', 'web'], ['i', 'https://clawstr.com/c/old'], ['k', 'web']],
      content: `history ${n}`,
    },
    secretKeys.bob,
  ) as NostrEvent;
}

describe.each(engines)('backfill API on %s', (driver) => {
  let harness: Harness | null = null;
  let relay: TestRelay | null = null;
  let verifier: VerifyPool | null = null;
  const connections: RelayConnection[] = [];
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.stop()));
    await verifier?.close();
    await relay?.close();
    await harness?.close();
    verifier = null;
    relay = null;
    harness = null;
  });

  /** The API over a fresh database with backfill jobs of an ingest process reading `r`. */
  async function ingestHarness(r: TestRelay): Promise<{ database: Harness['database']; pipeline: IngestPipeline }> {
    verifier = await VerifyPool.create({ size: 1 });
    const relaySet = parseRelaySet({ primaries: [r.url], scopes: { comments: { filter: { kinds: [1111], '#K': ['web'] } } } }, 'test');
    // The harness database is created first; the jobs write into it.
    harness = await createHarness(driver, {}, [controlRoutes, backfillRoutes]);
    const database = harness.database;
    const pipeline = new IngestPipeline({
      db: database.db,
      writeDb: database.writer,
      verifier,
      normalizeOptions: testNormalizeOptions,
      batchSize: 100,
      maxFutureSeconds: 900,
      maxEventBytes: 262_144,
      log,
    });
    harness.deps.backfill = new BackfillJobs({
      db: database.db,
      pipeline,
      relaySet,
      log,
      connect: (url) => {
        const connection = new RelayConnection({ url, log, maxFrameBytes: 524_288 });
        connections.push(connection);
        connection.start();
        return { connection, release: () => connection.stop() };
      },
    });
    return { database, pipeline };
  }

  /** Starts a job over HTTP and follows it until it ends. */
  async function runJob(token: string, body: Record<string, unknown>) {
    const started = await harness!.call('POST', '/v1/backfill', { token, body });
    expect(started.status).toBe(201);
    let job = started.body;
    await waitFor(async () => {
      job = (await harness!.call('GET', `/v1/backfill/${job.id}`, { token })).body;
      return job.status === 'done' || job.status === 'failed';
    }, 'the job to end');
    return job;
  }

  it('starts a job, reports its progress and result, and stores the history', async () => {
    relay = await startTestRelay({ maxLimit: 7 });
    const history = Array.from({ length: 40 }, (_, i) => comment(i));
    await relay.publish(history, { timeoutMs: 60_000 });
    const { database } = await ingestHarness(relay);
    const api = harness!;
    const token = await api.mint('operator');

    expect((await api.call('POST', '/v1/backfill', { body: { since: T } })).status).toBe(401);
    const bad = await api.call('POST', '/v1/backfill', { token, body: { since: T, scopes: ['nope'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].field).toBe('json.scopes.0');
    const badSince = await api.call('POST', '/v1/backfill', { token, body: { since: 'yesterday-ish' } });
    expect(badSince.status).toBe(400);
    expect(badSince.body.error.message).toContain('json.since');

    const job = await runJob(token, { since: '2025-06-15T00:00:00Z', until: T + 3600 });
    expect(job).toMatchObject({ status: 'done', kind: 'backfill', recheck: false, relays: [relay.url], scopes: ['comments'], until: T + 3600 });
    expect(job.results[0]).toMatchObject({ relay: relay.url, scope: 'comments', incompleteSeconds: [], observedPageSize: 7 });
    // The test relay's NIP-11 omits 77: paged without any NEG-OPEN.
    expect(job.results[0].negentropy).toMatchObject({ reconciled: 0, fallback: 'nip11 omits 77' });
    expect(relay.negentropyOpens).toEqual([]);
    const stored = await query<{ event_id: string }>(database.db, sql`SELECT event_id FROM nostr_events ORDER BY event_id`);
    expect(stored.map((r) => r.event_id)).toEqual(history.map((e) => e.id).sort());
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[Math.floor(Date.parse('2025-06-15T00:00:00Z') / 1000), T + 3600]]);
    expect((await api.call('GET', '/v1/backfill/00000000-0000-4000-8000-000000000000', { token })).status).toBe(404);
  });

  it('audits over HTTP: exactly the events that reached the relay after the range was covered, nothing once recheck fetched them', async () => {
    relay = await startTestRelay({ maxLimit: 7 });
    const history = Array.from({ length: 30 }, (_, i) => comment(i));
    const late = [history[3]!, history[17]!];
    await relay.publish(history.filter((e) => !late.includes(e)), { timeoutMs: 60_000 });
    await ingestHarness(relay);
    const token = await harness!.mint('operator');
    const range = { since: T, until: T + 3600 };
    expect((await runJob(token, range)).status).toBe('done');
    // Into the covered range, as a relay syncing from another would store them.
    await relay.seed(late);

    const bad = await harness!.call('POST', '/v1/backfill', { token, body: { ...range, audit: true, recheck: true } });
    expect(bad.status).toBe(400);
    const audit = await runJob(token, { ...range, audit: true });
    expect(audit).toMatchObject({ status: 'done', kind: 'audit', results: [] });
    expect(audit.audits).toHaveLength(1);
    expect(audit.audits[0]).toMatchObject({ relay: relay.url, scope: 'comments', method: 'paging', relayCount: 30, cacheCount: 28, missingOnRelay: [] });
    expect(audit.audits[0].missingInCache.map((k: { id: string }) => k.id).sort()).toEqual(late.map((e) => e.id).sort());

    // The range is covered: a plain backfill skips it; recheck ignores coverage and fetches them.
    expect((await runJob(token, range)).results[0]).toMatchObject({ events: 0, pages: 0 });
    const recheck = await runJob(token, { ...range, recheck: true });
    expect(recheck).toMatchObject({ status: 'done', recheck: true });
    expect(recheck.results[0].pages).toBeGreaterThan(0);
    const after = await runJob(token, { ...range, audit: true });
    expect(after.audits[0]).toMatchObject({ relayCount: 30, cacheCount: 30, missingInCache: [], missingOnRelay: [] });
  });

  it('answers 503 where ingest does not run', async () => {
    harness = await createHarness(driver, {}, [controlRoutes, backfillRoutes]);
    const token = await harness.mint('operator');
    const response = await harness.call('POST', '/v1/backfill', { token, body: { since: T } });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('ingest_not_running');
  });
});
