/**
 * Backfill over the API: POST /v1/backfill starts a job in the ingest process, GET /v1/backfill/{id}
 * follows it to completion; the events land in the cache and the range is covered. Token required;
 * 400 names the bad field; 503 where ingest does not run.
 */
import { afterEach, describe, expect, it } from 'vitest';
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
import { testNormalizeOptions } from '../../helpers/store.js';

const log = createLogger('silent');
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
  });

  it('starts a job, reports its progress and result, and stores the history', async () => {
    relay = await startTestRelay({ maxLimit: 7 });
    const history = Array.from({ length: 40 }, (_, i) => comment(i));
    await relay.publish(history, { timeoutMs: 60_000 });
    verifier = await VerifyPool.create({ size: 1 });
    const relaySet = parseRelaySet({ primaries: [relay.url], scopes: { comments: { filter: { kinds: [1111], '#K': ['web'] } } } }, 'test');
    // The harness database is created first; the jobs write into it.
    harness = await createHarness(driver, {}, [controlRoutes, backfillRoutes]);
    const database = harness.database;
    const jobs = new BackfillJobs({
      db: database.db,
      pipeline: new IngestPipeline({
        db: database.db,
        writeDb: database.writer,
        verifier,
        normalizeOptions: testNormalizeOptions,
        batchSize: 100,
        maxFutureSeconds: 900,
        maxEventBytes: 262_144,
        log,
      }),
      relaySet,
      log,
      connect: (url) => {
        const connection = new RelayConnection({ url, log, maxFrameBytes: 524_288 });
        connections.push(connection);
        connection.start();
        return { connection, release: () => connection.stop() };
      },
    });
    harness.deps.backfill = jobs;
    const token = await harness.mint('operator');

    expect((await harness.call('POST', '/v1/backfill', { body: { since: T } })).status).toBe(401);
    const bad = await harness.call('POST', '/v1/backfill', { token, body: { since: T, scopes: ['nope'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].field).toBe('json.scopes.0');
    const badSince = await harness.call('POST', '/v1/backfill', { token, body: { since: 'yesterday-ish' } });
    expect(badSince.status).toBe(400);
    expect(badSince.body.error.message).toContain('json.since');

    const started = await harness.call('POST', '/v1/backfill', { token, body: { since: '2025-06-15T00:00:00Z', until: T + 3600 } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ relays: [relay.url], scopes: ['comments'], until: T + 3600 });
    let job = started.body;
    for (let i = 0; i < 300 && (job.status === 'queued' || job.status === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await harness.call('GET', `/v1/backfill/${job.id}`, { token })).body;
    }
    expect(job.status).toBe('done');
    expect(job.results[0]).toMatchObject({ relay: relay.url, scope: 'comments', incompleteSeconds: [], observedPageSize: 7 });
    // The test relay has no NIP-77: it answered NEG-OPEN with a NOTICE, and the range was paged.
    expect(job.results[0].negentropy).toMatchObject({ reconciled: 0, fallback: expect.stringMatching(/^notice: /) });
    const stored = await query<{ event_id: string }>(database.db, sql`SELECT event_id FROM nostr_events ORDER BY event_id`);
    expect(stored.map((r) => r.event_id)).toEqual(history.map((e) => e.id).sort());
    const coverage = await loadCoverage(database.db, { relay: relay.url, scope: 'comments' });
    expect(coverage.map((r) => [r.since, r.until])).toEqual([[Math.floor(Date.parse('2025-06-15T00:00:00Z') / 1000), T + 3600]]);
    expect((await harness.call('GET', '/v1/backfill/00000000-0000-4000-8000-000000000000', { token })).status).toBe(404);
  });

  it('answers 503 where ingest does not run', async () => {
    harness = await createHarness(driver, {}, [controlRoutes, backfillRoutes]);
    const token = await harness.mint('operator');
    const response = await harness.call('POST', '/v1/backfill', { token, body: { since: T } });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('ingest_not_running');
  });
});
