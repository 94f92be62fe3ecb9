/**
 * Ingest test helpers: signed web comments (NIP-22, kind 1111 on a clawstr subclaw), a pipeline
 * over a test database with small batches, and a polling wait (behaviour, never timing: the
 * deadline is generous for loaded machines).
 */
import { finalizeEvent } from 'nostr-tools/pure';
import type { Database } from '../../src/db/client.js';
import { IngestPipeline, type PipelineOptions } from '../../src/ingest/pipeline/pipeline.js';
import type { Logger } from '../../src/log.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import type { VerifyPool } from '../../src/nostr/verify-pool.js';
import { secretKeys } from '../fixtures/hand-built.js';
import type { TestRelay } from './relay.js';
import { testNormalizeOptions } from './store.js';

/** Event `n` at `createdAt`: a web comment for kind 1111, tagless for other kinds. */
export function note(n: number, createdAt: number, kind = 1111, key: keyof typeof secretKeys = 'alice'): NostrEvent {
  const tags = kind === 1111 ? [['I', 'https://clawstr.com/c/x'], ['K', 'web'], ['i', 'https://clawstr.com/c/x'], ['k', 'web']] : [];
  return finalizeEvent({ kind, created_at: createdAt, tags, content: `event ${n}` }, secretKeys[key]) as NostrEvent;
}

let serial = 0;
/** A current web comment on `subclaw` (live subscriptions only forward events their `since` matches), unique by a serial. */
export function liveComment(tag: string, subclaw = 'live'): NostrEvent {
  const url = `https://clawstr.com/c/${subclaw}`;
  return finalizeEvent(
    { kind: 1111, created_at: Math.floor(Date.now() / 1000), tags: [['I', url], ['K', 'web'], ['i', url], ['k', 'web']], content: `${tag} ${++serial}` },
    secretKeys[serial % 2 ? 'alice' : 'bob'],
  ) as NostrEvent;
}

/** Publishes `perRelay` fresh comments to each relay in turn; returns them all. */
export async function publishEach(relays: TestRelay[], perRelay: number, tag: string, subclaw?: string): Promise<NostrEvent[]> {
  const all: NostrEvent[] = [];
  for (const relay of relays) {
    const events = Array.from({ length: perRelay }, () => liveComment(tag, subclaw));
    await relay.publish(events, { timeoutMs: 60_000 });
    all.push(...events);
  }
  return all;
}

/** A pipeline over `database` (any handle: tests sharing one server open several). */
export function testPipeline(
  database: Pick<Database, 'db' | 'writer' | 'recover'>,
  verifier: VerifyPool,
  log: Logger,
  overrides: Partial<PipelineOptions> = {},
): IngestPipeline {
  return new IngestPipeline({
    db: database.db,
    writeDb: database.writer,
    onDatabaseError: (error) => database.recover(error),
    verifier,
    normalizeOptions: testNormalizeOptions,
    batchSize: 100,
    maxBatchDelayMs: 20,
    maxFutureSeconds: 900,
    maxEventBytes: 262_144,
    log,
    ...overrides,
  });
}

/** The backfill and hostile-relay tests' pipeline: larger batches, small events. */
export function pipelineFor(database: Pick<Database, 'db' | 'writer' | 'recover'>, verifier: VerifyPool, log: Logger): IngestPipeline {
  return testPipeline(database, verifier, log, { batchSize: 200, maxEventBytes: 4096 });
}

export { waitFor } from './wait-for.js';
