import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NostrEvent } from '../../src/nostr/types.js';
import { loadCorpus } from '../fixtures/corpus.js';
import { initVerifier, verifyEventSync } from '../../src/nostr/verify.js';
import { loadNativeSchnorr } from '../../src/nostr/native-secp256k1.js';
import type { VerifyResult } from '../../src/nostr/verify.js';
import { VerifyPool, workersOf } from '../../src/nostr/verify-pool.js';

const corpus: NostrEvent[] = loadCorpus();

function flipHex(s: string, i: number): string {
  return s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);
}

/** The corpus with every third event's sig and every fifth event's content corrupted. */
function mixed(): { events: NostrEvent[]; expected: VerifyResult[] } {
  const events: NostrEvent[] = [];
  const expected: VerifyResult[] = [];
  corpus.forEach((e, i) => {
    if (i % 5 === 0) {
      events.push({ ...e, content: e.content + '!' });
      expected.push('bad_id');
    } else if (i % 3 === 0) {
      events.push({ ...e, sig: flipHex(e.sig, i % 128) });
      expected.push('bad_sig');
    } else {
      events.push(e);
      expected.push('ok');
    }
  });
  return { events, expected };
}

describe('VerifyPool with 2 workers', () => {
  let pool: VerifyPool;
  beforeAll(async () => {
    pool = await VerifyPool.create({ size: 2, batchSize: 100 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('verifies every real event', async () => {
    const results = await pool.verify(corpus);
    expect(results).toHaveLength(corpus.length);
    expect(results.every((r) => r === 'ok')).toBe(true);
  });

  it('keeps input order across chunk boundaries', async () => {
    const { events, expected } = mixed();
    expect(await pool.verify(events)).toEqual(expected);
    // Odd sizes: a last chunk shorter than the rest, and calls smaller than one chunk.
    expect(await pool.verify(events.slice(0, 257))).toEqual(expected.slice(0, 257));
    expect(await pool.verify(events.slice(10, 13))).toEqual(expected.slice(10, 13));
    expect(pool.stats()).toMatchObject({ workers: 2, queuedChunks: 0, inFlightChunks: 0 });
  });

  it('keeps concurrent calls apart', async () => {
    const { events, expected } = mixed();
    const slices = [0, 1, 2, 3, 4, 5].map((k) => [k * 300, k * 300 + 250 + k * 17] as const);
    const results = await Promise.all(slices.map(([a, b]) => pool.verify(events.slice(a, b))));
    results.forEach((r, k) => expect(r).toEqual(expected.slice(...slices[k]!)));
  });

  it('returns nothing for nothing', async () => {
    expect(await pool.verify([])).toEqual([]);
  });

  it('matches verifyEventSync', async () => {
    await initVerifier();
    const { events } = mixed();
    expect(await pool.verify(events)).toEqual(events.map((e) => verifyEventSync(e)));
  });
});

describe('VerifyPool backends', () => {
  const available = loadNativeSchnorr().ok ? (['wasm', 'native'] as const) : (['wasm'] as const);
  it.each(available)('workers load the %s backend on request and give the same results', async (backend) => {
    const pool = await VerifyPool.create({ size: 1, backend });
    try {
      expect(pool.backend).toBe(backend);
      const { events, expected } = mixed();
      expect(await pool.verify(events.slice(0, 600))).toEqual(expected.slice(0, 600));
    } finally {
      await pool.close();
    }
  });

  it('takes the native backend by default when it is built', async () => {
    const pool = await VerifyPool.create({ size: 1 });
    expect(pool.backend).toBe(loadNativeSchnorr().ok ? 'native' : 'wasm');
    await pool.close();
  });
});

describe('VerifyPool inline (size 0)', () => {
  it('verifies on the calling thread with the same results', async () => {
    const pool = await VerifyPool.create({ size: 0, batchSize: 64 });
    const { events, expected } = mixed();
    expect(await pool.verify(events.slice(0, 500))).toEqual(expected.slice(0, 500));
    expect(pool.stats().workers).toBe(0);
    await pool.close();
    await expect(pool.verify(events.slice(0, 1))).rejects.toThrow(/closed/);
  });
});

describe('VerifyPool lifecycle', () => {
  it('defaults to one worker per core', async () => {
    const pool = await VerifyPool.create();
    expect(pool.size).toBe(availableParallelism());
    expect(await pool.verify(corpus.slice(0, 40))).toEqual(Array(40).fill('ok'));
    await pool.close();
  });

  it('can be closed twice, and rejects work after close', async () => {
    const pool = await VerifyPool.create({ size: 1 });
    await pool.close();
    await expect(pool.close()).resolves.toBeUndefined();
    await expect(pool.verify(corpus.slice(0, 2))).rejects.toThrow(/closed/);
  });

  it('rejects pending calls when closed under load', async () => {
    const pool = await VerifyPool.create({ size: 1, batchSize: 50 });
    const pending = expect(pool.verify(corpus)).rejects.toThrow(/closed/);
    await pool.close();
    await pending;
  });

  it('rejects bad options', async () => {
    await expect(VerifyPool.create({ size: -1 })).rejects.toThrow(/size/);
    await expect(VerifyPool.create({ batchSize: 0 })).rejects.toThrow(/batchSize/);
  });

  it('replaces a killed worker and retries its chunk on the new one', async () => {
    const pool = await VerifyPool.create({ size: 1, batchSize: 10_000 });
    const { events, expected } = mixed();
    const pending = pool.verify(events); // one chunk, posted before verify() first awaits
    expect(pool.stats().inFlightChunks).toBe(1);
    await workersOf(pool)[0]!.terminate();
    expect(await pending).toEqual(expected);
    expect(pool.stats()).toMatchObject({ workers: 1, restarts: 1, inFlightChunks: 0 });
    await pool.close();
  });

  it('fails a chunk whose worker dies twice instead of hanging, and keeps working', async () => {
    const pool = await VerifyPool.create({ size: 1, batchSize: 20_000 });
    // A chunk long enough (seconds of work) that the replacement still holds it when killed.
    const events = Array.from({ length: 8 }, () => corpus).flat();
    const pending = expect(pool.verify(events)).rejects.toThrow(/died .* twice/);
    await workersOf(pool)[0]!.terminate();
    // The replacement picks the chunk up once it has loaded; kill it while it holds the chunk.
    await vi.waitFor(() => expect(pool.stats()).toMatchObject({ restarts: 1, inFlightChunks: 1 }), {
      timeout: 20_000,
      interval: 5,
    });
    await workersOf(pool)[0]!.terminate();
    await pending;
    expect(await pool.verify(corpus.slice(0, 100))).toEqual(Array(100).fill('ok'));
    expect(pool.stats().restarts).toBe(2);
    await pool.close();
  });
});
