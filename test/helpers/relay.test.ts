/**
 * Proves the test relay harness (a real @nostr-relay/core relay on 127.0.0.1) and the hostile
 * relay helper behave as the ingest tests assume.
 */
import { finalizeEvent, getPublicKey } from 'nostr-tools/pure';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { startHostileRelay, type HostileRelay } from './hostile-relay.js';
import { startTestRelay, type NostrEvent, type TestRelay } from './relay.js';

const aliceKey = Uint8Array.from(Buffer.from('11'.repeat(32), 'hex'));
const bobKey = Uint8Array.from(Buffer.from('22'.repeat(32), 'hex'));
const alice = getPublicKey(aliceKey);
const BASE = 1_700_000_000;

function note(key: Uint8Array, createdAt: number, content: string, kind = 1, tags: string[][] = []): NostrEvent {
  // Plain JSON, as it travels (finalizeEvent also sets nostr-tools' `verified` symbol).
  return JSON.parse(JSON.stringify(finalizeEvent({ kind, created_at: createdAt, tags, content }, key))) as NostrEvent;
}

/** A raw client: records every frame the relay sends, parsed. */
async function rawClient(url: string): Promise<{ socket: WebSocket; frames: unknown[][]; closed: Promise<number>; waitFor(pred: (f: unknown[]) => boolean, ms?: number): Promise<unknown[]> }> {
  const socket = new WebSocket(url);
  const frames: unknown[][] = [];
  const listeners: (() => void)[] = [];
  socket.on('message', (data: RawData) => {
    frames.push(JSON.parse(String(data)) as unknown[]);
    for (const l of listeners) l();
  });
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    frames,
    closed,
    waitFor(pred, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = frames.find(pred);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`no matching frame; got ${JSON.stringify(frames).slice(0, 500)}`)), ms);
        if (!check()) listeners.push(() => void check());
      });
    },
  };
}

const relays: TestRelay[] = [];
const hostiles: HostileRelay[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(hostiles.splice(0).map((r) => r.close()));
});

async function relay(options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const r = await startTestRelay(options);
  relays.push(r);
  return r;
}

describe('test relay (@nostr-relay/core + SQLite)', () => {
  it('stores published events and serves them newest first', async () => {
    const r = await relay();
    expect(r.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const events = [note(aliceKey, BASE, 'one'), note(aliceKey, BASE + 1, 'two'), note(aliceKey, BASE + 2, 'three')];
    const oks = await r.publish(events);
    expect(oks.map((o) => o.accepted)).toEqual([true, true, true]);

    const got = await r.query({ authors: [alice] });
    expect(got.map((e) => e.content)).toEqual(['three', 'two', 'one']);
    expect(got).toEqual([...events].reverse());
    expect((await r.storedEvents()).map((e) => e.id)).toEqual(got.map((e) => e.id));
    // since/until are inclusive.
    expect((await r.query({ authors: [alice], since: BASE + 1, until: BASE + 1 })).map((e) => e.content)).toEqual(['two']);
  });

  it('refuses a bad signature with OK false and answers a malformed frame with NOTICE', async () => {
    const r = await relay();
    const good = note(aliceKey, BASE, 'good');
    const forged = { ...note(bobKey, BASE, 'forged'), sig: good.sig };
    const [ok] = await r.publish([forged], { allowRejected: true });
    expect(ok).toMatchObject({ accepted: false });
    expect(ok!.message).toMatch(/^invalid:/);
    await expect(r.publish([forged])).rejects.toThrow(/refused 1 event/);

    const c = await rawClient(r.url);
    sockets.push(c.socket);
    c.socket.send('["REQ", not json');
    expect((await c.waitFor((f) => f[0] === 'NOTICE'))[1]).toEqual(expect.any(String));
  });

  it('clamps limit to maxLimit, newest first, then EOSE; equal created_at runs are cut too', async () => {
    const r = await relay({ maxLimit: 5 });
    const spread = Array.from({ length: 12 }, (_, i) => note(aliceKey, BASE + i, `n${i}`));
    await r.publish(spread);
    const page = await r.query({ authors: [alice], limit: 100 });
    expect(page.map((e) => e.created_at)).toEqual([11, 10, 9, 8, 7].map((i) => BASE + i));
    expect(await r.query({ authors: [alice] })).toHaveLength(5); // no limit: maxLimit too
    expect(await r.query({ authors: [alice], limit: 2 })).toHaveLength(2);

    // A run of 12 events at one created_at: a page holds 5 of them, in no id order guaranteed.
    const run = Array.from({ length: 12 }, (_, i) => note(bobKey, BASE + 100, `same${i}`));
    await r.publish(run);
    const tiePage = await r.query({ kinds: [1], until: BASE + 100, since: BASE + 100, limit: 50 });
    expect(tiePage).toHaveLength(5);
    expect(new Set(tiePage.map((e) => e.id)).size).toBe(5);
    expect(tiePage.every((e) => e.created_at === BASE + 100)).toBe(true);
    // Everything is still in storage.
    expect(await r.storedEvents()).toHaveLength(24);
  });

  it('sends EVENT, EOSE and then live events on an open subscription', async () => {
    const r = await relay();
    await r.publish([note(aliceKey, BASE, 'stored')]);
    const c = await rawClient(r.url);
    sockets.push(c.socket);
    c.socket.send(JSON.stringify(['REQ', 'live', { kinds: [1] }]));
    await c.waitFor((f) => f[0] === 'EOSE' && f[1] === 'live');
    expect(c.frames.filter((f) => f[0] === 'EVENT')).toHaveLength(1);
    const later = note(aliceKey, BASE + 5, 'live one');
    await r.publish([later]);
    const live = await c.waitFor((f) => f[0] === 'EVENT' && (f[2] as NostrEvent).id === later.id);
    expect(live[1]).toBe('live');
  });

  it('holdDelivery stops each connection after its allowance of events, then release sends the rest in order', async () => {
    const r = await relay();
    const stored = Array.from({ length: 10 }, (_, i) => note(aliceKey, BASE + i, `held ${i}`));
    await r.publish(stored);
    const hold = r.holdDelivery(3);
    const c = await rawClient(r.url);
    sockets.push(c.socket);
    c.socket.send(JSON.stringify(['REQ', 'h', { kinds: [1] }]));
    await c.waitFor((f) => f[0] === 'EVENT' && c.frames.length === 3);
    // A round trip on a second connection gives the relay time to send more, if it would.
    await r.query({ kinds: [1], limit: 1 });
    expect(c.frames.map((f) => f[0])).toEqual(['EVENT', 'EVENT', 'EVENT']);
    hold.release();
    await c.waitFor((f) => f[0] === 'EOSE');
    const ids = c.frames.filter((f) => f[0] === 'EVENT').map((f) => (f[2] as NostrEvent).id);
    expect(ids).toEqual([...stored].reverse().map((e) => e.id));
    expect(c.frames.at(-1)?.[0]).toBe('EOSE');
  });

  it('keeps kind-5 deletion requests and removes their targets', async () => {
    const r = await relay();
    const target = note(aliceKey, BASE, 'to delete');
    await r.publish([target]);
    const deletion = note(aliceKey, BASE + 1, '', 5, [['e', target.id]]);
    await r.publish([deletion]);
    expect((await r.storedEvents()).map((e) => e.id)).toEqual([deletion.id]);
    expect((await r.query({ kinds: [5] })).map((e) => e.id)).toEqual([deletion.id]);
  });

  it('survives kill + restart on the same port with its events, and accepts new connections', async () => {
    const r = await relay();
    const port = r.port;
    const before = [note(aliceKey, BASE, 'a'), note(aliceKey, BASE + 1, 'b')];
    await r.publish(before);
    const c = await rawClient(r.url);
    sockets.push(c.socket);

    await r.kill();
    expect(await c.closed).toBe(1006); // abnormal closure: no close frame, like a crash
    expect(r.running).toBe(false);
    await expect(rawClient(r.url)).rejects.toThrow();
    expect(await r.storedEvents()).toHaveLength(2); // readable while down

    await r.restart();
    expect(r.port).toBe(port);
    expect((await r.query({ authors: [alice] })).map((e) => e.content)).toEqual(['b', 'a']);
    await r.publish([note(aliceKey, BASE + 2, 'c')]);
    expect(await r.query({ authors: [alice] })).toHaveLength(3);
  });

  it('stops gracefully with close code 1001; dropConnections keeps listening', async () => {
    const r = await relay();
    const c1 = await rawClient(r.url);
    sockets.push(c1.socket);
    r.dropConnections();
    expect(await c1.closed).toBe(1006);
    const c2 = await rawClient(r.url);
    sockets.push(c2.socket);
    await r.stop();
    expect(await c2.closed).toBe(1001);
    await r.stop(); // idempotent
    await r.restart();
    expect(await r.query({ kinds: [1] })).toEqual([]);
  });

  it('serves a NIP-11 document over HTTP', async () => {
    const r = await relay({ maxLimit: 7 });
    const res = await fetch(r.httpUrl, { headers: { accept: 'application/nostr+json' } });
    expect(res.headers.get('content-type')).toBe('application/nostr+json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await res.json()) as typeof r.info;
    expect(doc).toEqual(r.info);
    expect(doc.supported_nips).toEqual([1, 9, 11]);
    expect(doc.limitation).toMatchObject({ max_limit: 7, auth_required: false });
  });

  it('requires NIP-42 AUTH when authRequired', async () => {
    const r = await relay({ authRequired: true });
    expect(r.info.supported_nips).toContain(42);
    const c = await rawClient(r.url);
    sockets.push(c.socket);
    const [, challenge] = await c.waitFor((f) => f[0] === 'AUTH');
    expect(challenge).toEqual(expect.any(String));
    c.socket.send(JSON.stringify(['REQ', 's', { kinds: [1] }]));
    const closed = await c.waitFor((f) => f[0] === 'CLOSED');
    expect(closed[1]).toBe('s');
    expect(closed[2]).toMatch(/^auth-required:/);
    const event = note(aliceKey, BASE, 'x');
    c.socket.send(JSON.stringify(['EVENT', event]));
    expect((await c.waitFor((f) => f[0] === 'OK'))[2]).toBe(false);

    // The harness's own client answers the challenge.
    await r.publish([event]);
    expect(await r.query({ kinds: [1] })).toHaveLength(1);
  });

  it('uses a caller-provided storage folder across instances, and close() is idempotent', async () => {
    const first = await relay();
    await first.publish([note(aliceKey, BASE, 'kept')]);
    await first.kill();
    const second = await relay({ storageDir: first.storageDir });
    expect((await second.query({})).map((e) => e.content)).toEqual(['kept']);
    await second.close();
    await second.close();
    await first.close();
    await expect(first.restart()).rejects.toThrow(/closed/);
  });
});

describe('hostile relay', () => {
  it('lets a script answer a REQ with exact raw frames', async () => {
    const good = note(aliceKey, BASE, 'good');
    const hostile = await startHostileRelay(async (peer) => {
      const [, subId] = await peer.nextRequest();
      await peer.send('["EVENT", oops');
      await peer.send(['EVENT', 'nobody-asked', good]);
      await peer.sendAll(Array.from({ length: 1000 }, () => ['NOTICE', 'spam']));
      await peer.send(['EVENT', subId, good]);
      await peer.send(['EOSE', subId]);
    });
    hostiles.push(hostile);
    const c = await rawClient(hostile.url);
    sockets.push(c.socket);
    // rawClient parses every frame, so collect raw text here instead.
    const raw: string[] = [];
    c.socket.removeAllListeners('message');
    const eose = new Promise<void>((resolve) =>
      c.socket.on('message', (data: RawData) => {
        raw.push(String(data));
        if (String(data).startsWith('["EOSE"')) resolve();
      }),
    );
    c.socket.send(JSON.stringify(['REQ', 'sub1', { kinds: [1] }]));
    await eose;
    expect(raw[0]).toBe('["EVENT", oops');
    expect(JSON.parse(raw[1]!)).toEqual(['EVENT', 'nobody-asked', good]);
    expect(raw).toHaveLength(1004);
    expect(JSON.parse(raw[1002]!)).toEqual(['EVENT', 'sub1', good]);
    expect(hostile.connections).toBe(1);
    expect(hostile.scriptErrors).toEqual([]);
  });
});
