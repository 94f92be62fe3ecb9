/**
 * The test relay's completeness modes, each as the issue found it in real relays:
 * - @nostr-relay/core's own caps (100 events for a REQ without `limit`, up to 1,000 with one), with
 *   and without a NIP-11 document, and a bench relay capping at 500 with `limit` and 100 without;
 * - a burst published while no client listens, and events published late with an old created_at;
 * - NIP-77 as strfry runs the reference: NEG-MSG frames of ~1 MB, its NEG-ERR and NOTICE texts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nip77 } from 'nostr-tools';
import { WebSocket, type RawData } from 'ws';
import { burst } from './bursts.js';
import { NEGENTROPY_DISABLED_NOTICE, startTestRelay, type TestRelay } from './relay.js';

const relays: TestRelay[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.close();
});

async function relayWith(options: Parameters<typeof startTestRelay>[0]): Promise<TestRelay> {
  const relay = await startTestRelay(options);
  relays.push(relay);
  return relay;
}

/** A raw client recording every frame as text (NEG-MSG sizes are measured on the wire). */
async function rawClient(url: string) {
  const socket = new WebSocket(url, { maxPayload: 8 * 1024 * 1024 });
  const frames: string[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data: RawData) => {
    frames.push(String(data));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const next = async (predicate: (frame: unknown[]) => boolean): Promise<{ frame: unknown[]; text: string }> => {
    for (;;) {
      for (const text of frames.splice(0)) {
        const frame = JSON.parse(text) as unknown[];
        if (predicate(frame)) return { frame, text };
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const send = (message: unknown[]) => socket.send(JSON.stringify(message));
  return { socket, next, send, close: () => socket.terminate() };
}

const now = () => Math.floor(Date.now() / 1000);

describe('REQ caps', () => {
  it("caps: 'engine' answers a REQ without limit with the newest 100, one with limit with up to 1,000", async () => {
    const relay = await relayWith({ caps: 'engine' });
    const events = burst(1_200, { until: now() - 60, perSecond: 10 });
    expect(await relay.seed(events)).toBe(1_200);
    const newestFirst = [...events].reverse();

    const unlimited = await relay.query({ kinds: [1111] });
    expect(unlimited.map((e) => e.id)).toEqual(newestFirst.slice(0, 100).map((e) => e.id));
    expect(await relay.query({ kinds: [1111], limit: 500 })).toHaveLength(500);
    expect(await relay.query({ kinds: [1111], limit: 5_000 })).toHaveLength(1_000);
    expect(relay.caps).toEqual({ withoutLimit: 100, withLimit: 1_000 });
    // Advertised as a relay host would: max_limit is the cap with limit, not the one without.
    const info = (await (await fetch(relay.httpUrl, { headers: { accept: 'application/nostr+json' } })).json()) as { limitation: { max_limit: number } };
    expect(info.limitation.max_limit).toBe(1_000);
  });

  it('nip11: false serves no document', async () => {
    const relay = await relayWith({ caps: 'engine', nip11: false });
    const response = await fetch(relay.httpUrl, { headers: { accept: 'application/nostr+json' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).not.toMatch(/json/);
  });

  it('caps with and without limit set separately (the benchmark relay: 500 and 100)', async () => {
    const relay = await relayWith({ caps: { withoutLimit: 100, withLimit: 500 } });
    await relay.seed(burst(700, { until: now() - 60 }));
    expect(await relay.query({ kinds: [1111] })).toHaveLength(100);
    expect(await relay.query({ kinds: [1111], limit: 10_000 })).toHaveLength(500);
    expect(await relay.query({ kinds: [1111], limit: 20 })).toHaveLength(20);
  });
});

describe('bursts and late events', () => {
  it('a burst of 300 at 10 a second, published with no client listening, is served in full only to a limited REQ', async () => {
    const relay = await relayWith({ caps: 'engine', nip11: false });
    const until = now() - 5;
    const events = burst(300, { until, perSecond: 10 });
    expect(events[0]!.created_at).toBe(until - 29);
    await relay.publish(events, { timeoutMs: 120_000 });
    const since = until - 60;
    expect(await relay.query({ kinds: [1111], since })).toHaveLength(100);
    expect(await relay.query({ kinds: [1111], since, limit: 1_000 })).toHaveLength(300);
  });

  it('accepts events published 10 minutes after their created_at and serves them inside that old range', async () => {
    const relay = await relayWith({ caps: 'engine' });
    const old = now() - 600;
    await relay.publish(burst(20, { until: old, perSecond: 2, label: 'early' }));
    const late = burst(100, { until: old, perSecond: 10, label: 'late' });
    await relay.publish(late);
    const range = await relay.query({ kinds: [1111], since: old - 60, until: old, limit: 1_000 });
    expect(range).toHaveLength(120);
    expect(new Set(range.map((e) => e.id))).toEqual(new Set([...late.map((e) => e.id), ...range.filter((e) => e.content.startsWith('early')).map((e) => e.id)]));
  });
});

describe('NIP-77 as strfry runs it', () => {
  it('answers an empty initiator over 17,000 events with a NEG-MSG of ~1 MB on the wire (15,600 ids), and the session converges', async () => {
    const relay = await relayWith({ caps: 'engine', nip77: {} });
    const events = burst(17_000, { until: now() - 60, perSecond: 50 });
    expect(await relay.seed(events)).toBe(17_000);
    const client = await rawClient(relay.url);
    const storage = new nip77.NegentropyStorageVector();
    storage.seal();
    const negentropy = new nip77.Negentropy(storage, 50_000);
    client.send(['NEG-OPEN', 'n1', { kinds: [1111] }, negentropy.initiate()]);
    const need: string[] = [];
    const sizes: number[] = [];
    for (;;) {
      const { frame, text } = await client.next((f) => f[1] === 'n1');
      expect(frame[0]).toBe('NEG-MSG');
      sizes.push(Buffer.byteLength(text));
      const reply = negentropy.reconcile(frame[2] as string, () => {}, (id) => need.push(id));
      if (reply === null) break;
      client.send(['NEG-MSG', 'n1', reply]);
    }
    client.send(['NEG-CLOSE', 'n1']);
    client.close();
    expect(sizes[0]).toBeGreaterThan(990_000);
    expect(sizes[0]).toBeLessThan(1_000_100);
    expect(sizes.length).toBeGreaterThan(1);
    expect(need.sort()).toEqual(events.map((e) => e.id).sort());
  }, 180_000);

  it("answers with strfry's texts: PROTOCOL-ERROR, closed: unknown subscription handle", async () => {
    const relay = await relayWith({ nip77: {} });
    const client = await rawClient(relay.url);
    client.send(['NEG-OPEN', 'bad', { kinds: [1] }, '59']);
    expect((await client.next((f) => f[1] === 'bad')).frame).toEqual(['NEG-ERR', 'bad', 'PROTOCOL-ERROR']);
    client.send(['NEG-MSG', 'gone', '61']);
    expect((await client.next((f) => f[1] === 'gone')).frame).toEqual(['NEG-ERR', 'gone', 'closed: unknown subscription handle']);
    client.close();
  });

  it("refuse: 'notice' answers as strfry with negentropy off; refuse: 'silent' never answers", async () => {
    const noticing = await relayWith({ nip77: { refuse: 'notice' } });
    const a = await rawClient(noticing.url);
    a.send(['NEG-OPEN', 'n', { kinds: [1] }, '6100000200']);
    expect((await a.next(() => true)).frame).toEqual(['NOTICE', NEGENTROPY_DISABLED_NOTICE]);
    a.close();

    const silent = await relayWith({ nip77: { refuse: 'silent' } });
    const b = await rawClient(silent.url);
    b.send(['NEG-OPEN', 'n', { kinds: [1] }, '6100000200']);
    b.send(['REQ', 'after', { kinds: [1] }]);
    // Frames are handled in order: the REQ's EOSE is the first frame, nothing came for the NEG-OPEN.
    expect((await b.next(() => true)).frame).toEqual(['EOSE', 'after']);
    expect(silent.negentropyOpens).toHaveLength(1);
    b.close();
  });
});
