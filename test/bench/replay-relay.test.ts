import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ReplayRelay, ReplayStore } from '../../bench/replay-relay.js';

/** Unsigned events are enough: the replay relay never verifies, it only filters and orders. */
function ev(n: number, created_at: number, kind: number, tags: string[][] = [], pubkey = 'a'.repeat(64)) {
  return { id: n.toString(16).padStart(64, '0'), pubkey, created_at, kind, tags, content: `event ${n}`, sig: '0'.repeat(128) };
}

const EVENTS = [
  ev(1, 100, 1111, [['K', 'web'], ['k', 'web']]),
  ev(2, 300, 7, [['e', 'x'.repeat(64)], ['k', '1111']]),
  ev(3, 200, 1111, [['K', '34550'], ['k', '1111']], 'b'.repeat(64)),
  ev(4, 200, 9735, [['e', 'x'.repeat(64)], ['description', '{"big":"json"}']]),
  ev(5, 200, 0, [], 'b'.repeat(64)),
  ev(6, 400, 5, [['e', ev(1, 0, 0).id], ['k', '1111']]),
  ev(7, 50, 7, [['e', 'y'.repeat(64)], ['k', '1111']]),
];
const idOf = (n: number) => n.toString(16).padStart(64, '0');

describe('ReplayStore', () => {
  const store = ReplayStore.fromEvents(EVENTS);
  const ids = (positions: number[]) => positions.map((p) => (JSON.parse(store.raw(p).toString()) as { id: string }).id);

  it('orders newest first, lowest id first within a second', () => {
    expect(ids(store.query([{}]))).toEqual([6, 2, 3, 4, 5, 1, 7].map(idOf));
  });

  it('keeps every event byte-exact', () => {
    const raw = store.query([{ ids: [idOf(4)] }]).map((p) => store.raw(p).toString());
    expect(raw).toEqual([JSON.stringify(EVENTS[3])]);
  });

  it('honours limit, since and until (inclusive) like a relay, so backfill can page', () => {
    expect(ids(store.query([{ limit: 2 }]))).toEqual([6, 2].map(idOf));
    expect(ids(store.query([{ until: 200, limit: 2 }]))).toEqual([3, 4].map(idOf));
    expect(ids(store.query([{ since: 100, until: 200 }]))).toEqual([3, 4, 5, 1].map(idOf));
    expect(ids(store.query([{ since: 500 }]))).toEqual([]);
    expect(ids(store.query([{ limit: 0 }]))).toEqual([]);
  });

  it('clamps limits to maxLimit, also for filters without one', () => {
    expect(store.query([{}], 3)).toHaveLength(3);
    expect(store.query([{ limit: 5 }], 2)).toHaveLength(2);
  });

  it('filters by kinds, authors, ids and single-letter tags', () => {
    expect(ids(store.query([{ kinds: [1111], '#K': ['web'] }]))).toEqual([idOf(1)]);
    expect(ids(store.query([{ kinds: [7, 9735], '#k': ['1111'] }]))).toEqual([2, 7].map(idOf));
    expect(ids(store.query([{ kinds: [7, 9735], '#e': ['x'.repeat(64)] }]))).toEqual([2, 4].map(idOf));
    expect(ids(store.query([{ kinds: [0, 5], authors: ['b'.repeat(64)] }]))).toEqual([idOf(5)]);
    expect(ids(store.query([{ ids: [idOf(7), idOf(3), 'f'.repeat(64)] }]))).toEqual([3, 7].map(idOf));
    expect(ids(store.query([{ kinds: [1111], '#K': ['web', '34550'], until: 150 }]))).toEqual([idOf(1)]);
    // Multi-letter tags cannot be filtered on (NIP-01), so they never match.
    expect(store.query([{ '#description': ['{"big":"json"}'] } as never])).toEqual([]);
  });

  it('answers several filters with their union, each limited on its own', () => {
    expect(ids(store.query([{ kinds: [7], limit: 1 }, { kinds: [0, 7] }]))).toEqual([2, 5, 7].map(idOf));
    expect(store.count([{ kinds: [7] }, { kinds: [0, 7] }])).toEqual({ matched: 3, perFilter: [2, 3] });
  });
});

describe('ReplayRelay over a WebSocket', () => {
  const relay = new ReplayRelay({ store: ReplayStore.fromEvents(EVENTS), maxLimit: 5 });
  let url = '';
  beforeAll(async () => {
    url = await relay.listen();
  });
  afterAll(() => relay.close());

  /** Sends frames and collects everything received until `done` says stop. */
  async function exchange(frames: unknown[][], done: (received: unknown[][]) => boolean): Promise<unknown[][]> {
    const ws = new WebSocket(url);
    const received: unknown[][] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => frames.forEach((f) => ws.send(JSON.stringify(f))));
      ws.on('message', (data) => {
        received.push(JSON.parse(data.toString()) as unknown[]);
        if (done(received)) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    return received;
  }

  it('sends EVENT frames newest first, then EOSE, clamped to max_limit', async () => {
    const got = await exchange([['REQ', 's1', {}]], (r) => r.at(-1)?.[0] === 'EOSE');
    expect(got.map((f) => f[0])).toEqual(['EVENT', 'EVENT', 'EVENT', 'EVENT', 'EVENT', 'EOSE']);
    expect(got.slice(0, 5).map((f) => (f[2] as { id: string }).id)).toEqual([6, 2, 3, 4, 5].map(idOf));
    expect(got.every((f) => f[1] === 's1')).toBe(true);
    expect(got[1]![2]).toEqual(EVENTS[1]);
  });

  it('handles CLOSE, answers EVENT with OK false and bad frames with NOTICE', async () => {
    const got = await exchange(
      [['REQ', 'gone', { kinds: [7] }], ['CLOSE', 'gone'], ['EVENT', EVENTS[0]], ['NOPE'], ['REQ', 'after', { ids: [idOf(5)] }]],
      (r) => r.some((f) => f[0] === 'EOSE' && f[1] === 'after'),
    );
    expect(got).toContainEqual(['OK', idOf(1), false, 'blocked: read-only replay relay']);
    expect(got).toContainEqual(['NOTICE', 'unsupported: NOPE']);
    expect(got.filter((f) => f[1] === 'after').map((f) => f[0])).toEqual(['EVENT', 'EOSE']);
  });

  it('serves its NIP-11 document', async () => {
    const res = await fetch(url.replace('ws:', 'http:'), { headers: { accept: 'application/nostr+json' } });
    expect(await res.json()).toMatchObject({ limitation: { max_limit: 5 } });
  });
});
