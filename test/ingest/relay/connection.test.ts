/**
 * RelayConnection: the socket lifecycle (reconnects, backoff and circuit, keepalive, connect timeout, stop), and against a real relay (@nostr-relay/core on 127.0.0.1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { makeAuthEvent } from 'nostr-tools/nip42';
import { createServer } from 'node:net';
import { RelayConnection, type RelayState } from '../../../src/ingest/relay/connection.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { cleanups, connection, ev, freePort, log, recorder, relay, runCleanups, sendEvents, sleep } from '../../helpers/scripted-relay.js';
import { waitFor } from '../../helpers/wait-for.js';

afterEach(runCleanups);

describe('RelayConnection: reconnects', () => {
  it('re-sends subscriptions with re-evaluated filters after the relay drops the connection', async () => {
    const r = await relay({
      onReq: (ws, req) => {
        if (req.conn === 0) {
          sendEvents(ws, req.id, [ev(1), ev(2), ev(5)]);
          setTimeout(() => ws.terminate(), 20);
        } else sendEvents(ws, req.id, [ev(6)]);
      },
    });
    const c = connection({ url: r.url });
    let cursor = 0;
    const rec = recorder(
      () => [{ kinds: [1], since: cursor }],
      (e) => void (cursor = Math.max(cursor, e.created_at)),
    );
    c.subscribe('live', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 2, 'second EOSE');
    expect(r.connections).toBe(2);
    expect(r.reqs.map((q) => [q.conn, q.filters])).toEqual([
      [0, [{ kinds: [1], since: 0 }]],
      [1, [{ kinds: [1], since: 1_005 }]],
    ]);
    expect(rec.events.map((e) => e.created_at)).toEqual([1_001, 1_002, 1_005, 1_006]);
    expect(c.state()).toMatchObject({ status: 'connected', failures: 1, consecutiveFailures: 0 });
  });

  it('backoff grows while the relay is down and resets once a connection proves stable', async () => {
    const port = await freePort();
    const c = connection({
      url: `ws://127.0.0.1:${port}`,
      backoff: { minMs: 10, maxMs: 5_000 },
      circuit: { failureThreshold: 100 },
      random: () => 0.999_999,
    });
    const delays: number[] = [];
    c.on('status', (s) => {
      if (s.status === 'backoff' && s.nextAttemptAt !== null) delays.push(s.nextAttemptAt - Date.now());
    });
    c.subscribe('s', recorder().spec);
    c.start();
    await waitFor(() => delays.length >= 5, 'five failures');
    // ceilings 20, 40, 80, 160, 320 ms (random ~1): each roughly double the previous
    for (let i = 1; i < 5; i++) expect(delays[i]!).toBeGreaterThan(delays[i - 1]! * 1.5);
    expect(c.state().consecutiveFailures).toBeGreaterThanOrEqual(5);

    const r = await relay({ port });
    await waitFor(() => c.state().stable, 'stable after EOSE');
    expect(c.state()).toMatchObject({ status: 'connected', consecutiveFailures: 0 });
    const before = delays.length;
    r.dropAll();
    await waitFor(() => delays.length > before, 'backoff after drop');
    expect(delays[before]!).toBeLessThanOrEqual(25); // back to the first ceiling (20 ms)
  });

  it('a connection that drops before proving stable keeps growing the backoff', async () => {
    // never answers the REQ, so no EOSE makes the connection stable before it drops
    const r = await relay({ onReq: () => {}, onConnection: (ws) => setTimeout(() => ws.terminate(), 5) });
    const c = connection({ url: r.url, backoff: { minMs: 10, maxMs: 5_000 }, random: () => 0.999_999, stableAfterMs: 10_000 });
    c.subscribe('s', recorder().spec);
    c.start();
    await waitFor(() => c.state().consecutiveFailures >= 4, 'four drops');
    expect(c.state().stable).toBe(false);
  });

  it('the circuit opens after repeated failures, retries after the cool-down, and closes on success', async () => {
    const port = await freePort();
    const c = connection({
      url: `ws://127.0.0.1:${port}`,
      backoff: { minMs: 5, maxMs: 10 },
      circuit: { failureThreshold: 3, coolDownMs: 150, coolDownFactor: 1 },
    });
    // Each opening as it happened (a poll could come late on a loaded machine and see a later one).
    const opens: Array<{ state: RelayState; at: number; attempts: number }> = [];
    let attempts = 0;
    let last: string | null = null;
    c.on('status', (s) => {
      if (s.status === last) return;
      last = s.status;
      if (s.status === 'connecting') attempts++;
      if (s.status === 'open_circuit') opens.push({ state: s, at: Date.now(), attempts });
    });
    c.subscribe('s', recorder().spec);
    c.start();
    await waitFor(() => opens.length >= 1, 'circuit open');
    expect(opens[0]!.state).toMatchObject({ circuit: 'open', consecutiveFailures: 3, failures: 3 });
    expect(opens[0]!.state.nextAttemptAt! - opens[0]!.at).toBeGreaterThan(50);
    expect(opens[0]!.attempts).toBe(3);
    // the half-open trial fails: open again at once (no backoff attempts in between)
    await waitFor(() => opens.length >= 2, 'half-open trial');
    expect(opens[1]!.state).toMatchObject({ circuit: 'open', failures: 4 });
    expect(opens[1]!.attempts).toBe(4);

    await relay({ port });
    await waitFor(() => c.state().stable, 'connected after cool-down');
    expect(c.state()).toMatchObject({ circuit: 'closed', consecutiveFailures: 0, status: 'connected' });
  });

  it('keepalive: a peer that stops answering pings is terminated and reconnected', async () => {
    const r = await relay({ autoPong: false });
    const c = connection({ url: r.url, keepaliveMs: 20, pongTimeoutMs: 40 });
    c.start();
    await waitFor(() => r.connections >= 2, 'reconnect after dead peer');
    expect(c.state().lastError).toMatch(/no pong/);
  });

  it('keepalive: no pings while paused (the pong could not be read), resumes after', async () => {
    const r = await relay({ autoPong: false });
    const c = connection({ url: r.url, keepaliveMs: 10, pongTimeoutMs: 20 });
    // Paused before connecting, so no ping can go out between the connect and the pause.
    c.pause();
    c.start();
    await waitFor(() => c.state().status === 'connected', 'connected');
    await sleep(150);
    expect(r.connections).toBe(1);
    c.resume();
    await waitFor(() => r.connections >= 2, 'dead peer detected after resume');
  });

  it('keepalive: a peer that answers pings stays connected', async () => {
    const r = await relay();
    // Pings every 50 ms for longer than the pong timeout: a pong that was not heard would have
    // ended the connection. (The timeout is 1 s so that an event-loop stall cannot fake one.)
    const c = connection({ url: r.url, keepaliveMs: 50, pongTimeoutMs: 1_000 });
    let pongs = 0;
    c.start();
    await waitFor(() => c.state().status === 'connected', 'connected');
    const since = Date.now();
    r.sockets[0]!.on('ping', () => pongs++);
    await waitFor(() => pongs >= 5 && Date.now() - since > 1_500, 'pings answered for longer than the pong timeout');
    expect(r.connections).toBe(1);
  });

  it('connect timeout: a server that never completes the handshake', async () => {
    const sockets: import('node:net').Socket[] = [];
    const srv = createServer((s) => sockets.push(s)); // accepts TCP, never answers the upgrade
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    cleanups.push(() => new Promise<void>((res) => {
      for (const s of sockets) s.destroy();
      srv.close(() => res());
    }));
    const address = srv.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const c = connection({ url: `ws://127.0.0.1:${port}`, connectTimeoutMs: 50 });
    c.start();
    await waitFor(() => c.state().failures >= 2, 'two timeouts');
    expect(c.state().lastError).toMatch(/timeout|timed out/i);
  });

  it('stop() closes politely (CLOSE per subscription, close 1000) and never reconnects', async () => {
    const r = await relay();
    const c = connection({ url: r.url });
    const rec = recorder();
    c.subscribe('s', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE');
    await c.stop();
    await waitFor(() => r.closeCodes.length === 1, 'server saw close');
    expect(r.closeCodes).toEqual([1000]);
    expect(r.closes.map((q) => q.id)).toEqual(['s']);
    expect(c.state().status).toBe('stopped');
    await sleep(50);
    expect(r.connections).toBe(1);
  });

  it('rejects non-websocket URLs at construction', () => {
    expect(() => new RelayConnection({ url: 'http://x', log, maxFrameBytes: 1 })).toThrow(TypeError);
    expect(() => new RelayConnection({ url: 'not a url', log, maxFrameBytes: 1 })).toThrow();
  });
});

describe('RelayConnection against a real relay (@nostr-relay/core on 127.0.0.1)', () => {
  const sk = generateSecretKey();
  const note = (n: number, created_at: number) =>
    finalizeEvent({ kind: 1, created_at, tags: [['t', 'rc-test']], content: `note ${n}` }, sk) as NostrEvent;

  it('stored events then EOSE, then live events; reconnect after a relay restart resumes from the cursor', async () => {
    const { startTestRelay } = await import('../../helpers/relay.js');
    const real = await startTestRelay();
    cleanups.push(() => real.close());
    const base = Math.floor(Date.now() / 1000) - 1_000;
    const stored = Array.from({ length: 20 }, (_, i) => note(i, base + i));
    await real.publish(stored);

    const c = connection({ url: real.url, backoff: { minMs: 20, maxMs: 200 } });
    let cursor = base - 1;
    const sinceSent: number[] = [];
    const rec = recorder(
      () => {
        sinceSent.push(cursor);
        return [{ kinds: [1], '#t': ['rc-test'], since: cursor }];
      },
      (e) => void (cursor = Math.max(cursor, e.created_at)),
    );
    c.subscribe('rc', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE from the real relay');
    expect(new Set(rec.events.map((e) => e.id))).toEqual(new Set(stored.map((e) => e.id)));

    const live = note(100, base + 100);
    await real.publish([live]);
    await waitFor(() => rec.events.some((e) => e.id === live.id), 'live event');

    await real.restart();
    await waitFor(() => rec.eoses === 2, 'EOSE after the relay restarted');
    expect(sinceSent).toEqual([base - 1, base + 100]);
    const later = note(101, base + 101);
    await real.publish([later]);
    await waitFor(() => rec.events.some((e) => e.id === later.id), 'live event after restart');
    expect(c.state()).toMatchObject({ status: 'connected', handlerErrors: 0 });
    expect(Object.values(c.state().rejects).every((n) => n === 0)).toBe(true);
  });

  it('NIP-42 against the real relay: auth-required, sign, resubscribe', async () => {
    const { startTestRelay } = await import('../../helpers/relay.js');
    const real = await startTestRelay({ authRequired: true });
    cleanups.push(() => real.close());
    const c = connection({
      url: real.url,
      authSigner: (challenge, relayUrl) => finalizeEvent(makeAuthEvent(relayUrl, challenge), sk) as NostrEvent,
    });
    const rec = recorder(() => [{ kinds: [1], limit: 1 }]);
    c.subscribe('auth', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after NIP-42 auth');
    expect(rec.closed).toEqual([]);
    expect(c.state()).toMatchObject({ authRequired: true, authenticated: true });
  });
});
