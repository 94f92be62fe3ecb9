/**
 * The real corpus through the whole import path (file -> pipeline -> worker verification -> store),
 * on both engines, with every outcome count checked against an independent count made here from
 * the raw file with nostr-tools alone.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { isAddressableKind, isEphemeralKind, isReplaceableKind } from 'nostr-tools/kinds';
import { verifyEvent } from 'nostr-tools/pure';
import { query } from '../../src/db/client.js';
import { importFile } from '../../src/ingest/import-file.js';
import { IngestPipeline } from '../../src/ingest/pipeline/pipeline.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { VerifyPool } from '../../src/nostr/verify-pool.js';
import { createLogger } from '../../src/log.js';
import { corpusPath, loadCorpus } from '../fixtures/corpus.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { testNormalizeOptions } from '../helpers/store.js';

const log = createLogger('silent');
const NOW = Math.floor(Date.now() / 1000);

/** The expected outcome of importing the corpus, computed without any project code. */
function independentCount(events: NostrEvent[]) {
  const expirationOf = (e: NostrEvent) => {
    const v = e.tags.find((t) => t[0] === 'expiration')?.[1];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  };
  const ephemeral = events.filter((e) => isEphemeralKind(e.kind)).length;
  const expired = events.filter((e) => !isEphemeralKind(e.kind) && (expirationOf(e) ?? Infinity) <= NOW).length;
  const kept = events.filter((e) => !isEphemeralKind(e.kind) && (expirationOf(e) ?? Infinity) > NOW);
  const unique = new Map(kept.map((e) => [e.id, e]));
  const keyOf = (e: NostrEvent) =>
    isReplaceableKind(e.kind)
      ? `${e.kind}:${e.pubkey}:`
      : isAddressableKind(e.kind)
        ? `${e.kind}:${e.pubkey}:${e.tags.find((t) => t[0] === 'd')?.[1] ?? ''}`
        : null;
  const winners = new Map<string, NostrEvent>();
  let regular = 0;
  for (const e of unique.values()) {
    const key = keyOf(e);
    if (key === null) {
      regular++;
      continue;
    }
    const w = winners.get(key);
    if (!w || e.created_at > w.created_at || (e.created_at === w.created_at && e.id < w.id)) winners.set(key, e);
  }
  return {
    received: events.length,
    ephemeral,
    expired,
    duplicate: kept.length - unique.size,
    /** accepted + superseded: each unique kept event is stored or loses to another version. */
    acceptedOrSuperseded: unique.size,
    storedAtEnd: regular + winners.size,
  };
}

describe.each(engines)('corpus import on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  const corpus = loadCorpus();
  const expected = independentCount(corpus);

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    verifier = await VerifyPool.create({ size: 2 });
  });
  afterAll(async () => {
    await verifier?.close();
    await database?.destroy();
  });

  const pipeline = () =>
    new IngestPipeline({
      db: database.db,
      verifier,
      normalizeOptions: testNormalizeOptions,
      batchSize: 200,
      maxFutureSeconds: 900,
      maxEventBytes: 262_144,
      log,
    });

  it('imports every event with outcome counts matching an independent count', async () => {
    const report = await importFile({ pipeline: pipeline(), source: corpusPath, log });
    const o = report.outcomes;
    expect(report.lines).toBe(corpus.length);
    expect(o.received).toBe(expected.received);
    expect(o.invalid).toEqual({});
    expect(o.ephemeral).toBe(expected.ephemeral);
    expect(o.expired).toBe(expected.expired);
    expect(o.duplicate).toBe(expected.duplicate);
    expect(o.accepted + o.superseded).toBe(expected.acceptedOrSuperseded);
    const stored = await query<{ n: string | number }>(database.db, sql`SELECT count(*) AS n FROM nostr_events`);
    expect(Number(stored[0]?.n)).toBe(expected.storedAtEnd);
    // The corpus is known to hold expired events and several profile versions.
    expect(expected.expired).toBeGreaterThan(0);
    expect(o.superseded).toBeGreaterThan(0);
  });

  it('stores events byte-exactly: every stored id and signature verifies', async () => {
    const rows = await query<{ event_id: string; pubkey: string; created_at: string | number; kind: number; tags_json: unknown; content: string; sig: string }>(
      database.db,
      sql`SELECT event_id, pubkey, created_at, kind, tags_json, content, sig FROM nostr_events`,
    );
    expect(rows.length).toBe(expected.storedAtEnd);
    const failures = rows.filter(
      (r) =>
        !verifyEvent({
          id: r.event_id,
          pubkey: r.pubkey,
          created_at: Number(r.created_at),
          kind: Number(r.kind),
          tags: (typeof r.tags_json === 'string' ? JSON.parse(r.tags_json) : r.tags_json) as string[][],
          content: r.content,
          sig: r.sig,
        }),
    );
    expect(failures.map((r) => r.event_id)).toEqual([]);
  });

  it('is idempotent: a second import stores nothing new', async () => {
    const report = await importFile({ pipeline: pipeline(), source: corpusPath, log });
    expect(report.outcomes.accepted).toBe(0);
    expect(report.outcomes.duplicate + report.outcomes.superseded).toBe(expected.acceptedOrSuperseded + expected.duplicate);
  });

  it('checks the 17 zap receipts against hand-computed amounts and senders', async () => {
    const zaps = await query<{ receipt_id: string; amount_msat: string | number; sender: string; validity: number }>(
      database.db,
      sql`SELECT receipt_id, amount_msat, sender, validity FROM zaps`,
    );
    expect(zaps.length).toBe(17);
    const of = (prefix: string) => zaps.find((z) => z.receipt_id.startsWith(prefix));
    // bolt11 hrp "lnbc420n": 420 * 100 msat (n = 100 msat) = 42,000 msat; sender = request pubkey dab48785…
    expect(Number(of('745622c00fa3')?.amount_msat)).toBe(42_000);
    expect(of('745622c00fa3')?.sender.startsWith('dab48785a294')).toBe(true);
    // "lnbc4200n": 4200 * 100 = 420,000 msat; same sender.
    expect(Number(of('3f836ef7b8b5')?.amount_msat)).toBe(420_000);
    expect(of('3f836ef7b8b5')?.sender.startsWith('dab48785a294')).toBe(true);
    // "lnbc400n": 400 * 100 = 40,000 msat; the request names no amount; sender 18905d0a…
    expect(Number(of('ca70a2652705')?.amount_msat)).toBe(40_000);
    expect(of('ca70a2652705')?.sender.startsWith('18905d0a5d62')).toBe(true);
    // "lnbc10n": 10 * 100 = 1,000 msat = the request's amount tag 1000; sender 97f848ad…
    expect(Number(of('1992dbebabf6')?.amount_msat)).toBe(1_000);
    expect(of('1992dbebabf6')?.sender.startsWith('97f848adcc4c')).toBe(true);
    // "lnbc70n": 70 * 100 = 7,000 msat; sender 6947b555…
    expect(Number(of('9a0ae87f7056')?.amount_msat)).toBe(7_000);
    expect(of('9a0ae87f7056')?.sender.startsWith('6947b555846d')).toBe(true);
    // "lnbc20n": 20 * 100 = 2,000 msat; sender b83a28b7…
    expect(Number(of('7f0f521a0c82')?.amount_msat)).toBe(2_000);
    expect(of('7f0f521a0c82')?.sender.startsWith('b83a28b7e4e5')).toBe(true);
    // Every corpus receipt carries a valid signed request with a consistent amount.
    expect(zaps.every((z) => z.validity >= 2)).toBe(true);
  });
});

describe.each(engines)('corrupted copies on %s', (driver) => {
  let database: TestDatabase;
  let verifier: VerifyPool;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
    verifier = await VerifyPool.create({ size: 1 });
  });
  afterAll(async () => {
    await verifier?.close();
    await database?.destroy();
  });

  const flipHex = (s: string, at: number) => s.slice(0, at) + (s[at] === '0' ? '1' : '0') + s.slice(at + 1);
  const original = loadCorpus().find((e) => e.kind === 1 && e.tags.length > 0 && !e.tags.some((t) => t[0] === 'expiration'))!;

  it('rejects one flipped byte in sig, content, tags or id with the right reason, and keeps the real event', async () => {
    const corrupted: Array<[string, NostrEvent, string]> = [
      ['sig', { ...original, sig: flipHex(original.sig, 10) }, 'bad_sig'],
      ['content', { ...original, content: `${original.content}x` }, 'bad_id'],
      ['tags', { ...original, tags: [[`${original.tags[0]![0]}x`, ...original.tags[0]!.slice(1)], ...original.tags.slice(1)] }, 'bad_id'],
      ['id', { ...original, id: flipHex(original.id, 5) }, 'bad_id'],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'nc-corrupt-'));
    const file = join(dir, 'events.jsonl');
    // Forged copies first: a forgery under the real id must not shadow the real event behind it.
    writeFileSync(file, [...corrupted.map(([, e]) => JSON.stringify(e)), JSON.stringify(original), 'not json', '["NOTICE","x"]'].join('\n'));
    const report = await importFile({
      pipeline: new IngestPipeline({
        db: database.db,
        verifier,
        normalizeOptions: testNormalizeOptions,
        batchSize: 500,
        maxFutureSeconds: 900,
        maxEventBytes: 262_144,
        log,
      }),
      source: file,
      log,
    });
    expect(report.problems).toEqual([
      { line: 1, reason: 'bad_sig' },
      { line: 2, reason: 'bad_id' },
      { line: 3, reason: 'bad_id' },
      { line: 4, reason: 'bad_id' },
      { line: 6, reason: 'bad_json' },
      { line: 7, reason: 'not_event' },
    ]);
    expect(report.outcomes.invalid).toEqual({ bad_sig: 1, bad_id: 3, bad_json: 1, not_event: 1 });
    expect(report.outcomes.accepted).toBe(1);
    const stored = await query<{ event_id: string; sig: string }>(database.db, sql`SELECT event_id, sig FROM nostr_events`);
    expect(stored).toEqual([{ event_id: original.id, sig: original.sig }]);
  });
});
