/**
 * Ingest test helpers: signed web comments (NIP-22, kind 1111 on a clawstr subclaw) and a pipeline
 * over a test database with small batches, as backfill and hostile-relay tests use them.
 */
import { finalizeEvent } from 'nostr-tools/pure';
import { IngestPipeline } from '../../src/ingest/pipeline.js';
import type { Logger } from '../../src/log.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import type { VerifyPool } from '../../src/nostr/verify-pool.js';
import { secretKeys } from '../fixtures/hand-built.js';
import type { TestDatabase } from './engines.js';
import { testNormalizeOptions } from './store.js';

/** Event `n` at `createdAt`: a web comment for kind 1111, tagless for other kinds. */
export function note(n: number, createdAt: number, kind = 1111, key: keyof typeof secretKeys = 'alice'): NostrEvent {
  const tags = kind === 1111 ? [['I', 'https://clawstr.com/c/x'], ['K', 'web'], ['i', 'https://clawstr.com/c/x'], ['k', 'web']] : [];
  return finalizeEvent({ kind, created_at: createdAt, tags, content: `event ${n}` }, secretKeys[key]) as NostrEvent;
}

export function pipelineFor(database: TestDatabase, verifier: VerifyPool, log: Logger): IngestPipeline {
  return new IngestPipeline({
    db: database.db,
    writeDb: database.writer,
    verifier,
    normalizeOptions: testNormalizeOptions,
    batchSize: 200,
    maxBatchDelayMs: 20,
    maxFutureSeconds: 900,
    maxEventBytes: 4096,
    log,
  });
}
