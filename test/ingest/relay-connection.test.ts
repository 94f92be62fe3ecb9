/**
 * RelayConnection against scripted `ws` servers on 127.0.0.1 (never real relays). Timeouts are
 * configured small; assertions wait for conditions with generous upper bounds, never on timing.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Filter } from 'nostr-tools/filter';
import { makeAuthEvent } from 'nostr-tools/nip42';
import { finalizeEvent, generateSecretKey, verifyEvent } from 'nostr-tools/pure';
import {
  RELAY_REJECT_REASONS,
  RelayConnection,
  type RelayConnectionOptions,
  type RelayRejectReason,
  type RelayState,
  type SubscriptionSpec,
} from '../../src/ingest/relay-connection.js';
import type { NostrEvent } from '../../src/nostr/types.js';

const log = pino({ level: 'silent' });

// ── a scripted relay ─────────────────────────────────────────────────────────────────────────

interface Req {
  conn: number;
  id: string;
  filters: Filter[];
}

interface ScriptedRelayOptions {
  port?: number;
  autoPong?: boolean;
  /** Called on every REQ; default: answer EOSE at once. */
  onReq?: (ws: WebSocket, req: Req, relay: ScriptedRelay) => void;
  onConnection?: (ws: WebSocket, conn: number) => void;
  onOther?: (ws: WebSocket, msg: unknown[], conn: number) => void;
}

class ScriptedRelay {
  readonly reqs: Req[] = [];
  readonly closes: Array<{ conn: number; id: string }> = [];
  readonly sockets: WebSocket[] = [];
  readonly closeCodes: number[] = [];
  private constructor(
    readonly wss: WebSocketServer,
    readonly port: number,
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.sockets.length;
  }

  static start(options: ScriptedRelayOptions = {}): Promise<ScriptedRelay> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, autoPong: options.autoPong ?? true });
      wss.once('error', reject);
      wss.once('listening', () => {
        const address = wss.address();
        const relay = new ScriptedRelay(wss, typeof address === 'object' && address ? address.port : 0);
        wss.on('connection', (ws) => {
          const conn = relay.sockets.push(ws) - 1;
          ws.on('close', (code) => relay.closeCodes.push(code));
          ws.on('message', (data) => {
            const msg = JSON.parse(data.toString()) as unknown[];
            if (msg[0] === 'REQ') {
              const req: Req = { conn, id: msg[1] as string, filters: msg.slice(2) as Filter[] };
              relay.reqs.push(req);
              if (options.onReq) options.onReq(ws, req, relay);
              else ws.send(JSON.stringify(['EOSE', req.id]));
            } else if (msg[0] === 'CLOSE') {
              relay.closes.push({ conn, id: msg[1] as string });
            } else {
              options.onOther?.(ws, msg, conn);
            }
          });
          options.onConnection?.(ws, conn);
        });
        resolve(relay);
      });
    });
  }

  reqsFor(id: string): Req[] {
    return this.reqs.filter((r) => r.id === id);
  }

  /** Drops every client without a close frame. */
  dropAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function relay(options?: ScriptedRelayOptions): Promise<ScriptedRelay> {
  const r = await ScriptedRelay.start(options);
  cleanups.push(() => r.close());
  return r;
}

function connection(options: Partial<RelayConnectionOptions> & { url: string }): RelayConnection {
  const c = new RelayConnection({
    log,
    maxFrameBytes: 64 * 1024,
    backoff: { minMs: 10, maxMs: 100 },
    keepaliveMs: 60_000,
    ...options,
  });
  cleanups.push(() => c.stop());
  return c;
}

async function waitFor(cond: () => boolean, what = 'condition', timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on (for refused connections); it can be listened on later. */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function ev(n: number, extra: Partial<NostrEvent> = {}): NostrEvent {
  return {
    id: n.toString(16).padStart(64, '0'),
    pubkey: 'b'.repeat(64),
    created_at: 1_000 + n,
    kind: 1,
    tags: [],
    content: `event ${n}`,
    sig: 'c'.repeat(128),
    ...extra,
  };
}

interface Recorder {
  events: NostrEvent[];
  bytes: number[];
  eoses: number;
  closed: Array<{ reason: string; prefix: string | null }>;
  spec: SubscriptionSpec;
}

function recorder(filters: () => Filter[] = () => [{ kinds: [1] }], onEvent?: (e: NostrEvent) => void | Promise<void>): Recorder {
  const rec: Recorder = {
    events: [],
    bytes: [],
    eoses: 0,
    closed: [],
    spec: {
      filters,
      onEvent: (event, bytes) => {
        rec.events.push(event as NostrEvent);
        rec.bytes.push(bytes);
        return onEvent?.(event as NostrEvent);
      },
      onEose: () => void rec.eoses++,
      onClosed: (reason, prefix) => void rec.closed.push({ reason, prefix }),
    },
  };
  return rec;
}

function sendEvents(ws: WebSocket, id: string, events: NostrEvent[], eose = true): void {
  for (const e of events) ws.send(JSON.stringify(['EVENT', id, e]));
  if (eose) ws.send(JSON.stringify(['EOSE', id]));
}

// ── tests ────────────────────────────────────────────────────────────────────────────────────

describe('RelayConnection: subscriptions', () => {
  it('subscribe -> EVENTs in order with frame sizes -> EOSE', async () => {
    const events = [ev(1), ev(2), ev(3)];
    const r = await relay({ onReq: (ws, req) => sendEvents(ws, req.id, events) });
    const c = connection({ url: r.url });
    const rec = recorder(() => [{ kinds: [1], limit: 10 }]);
    c.subscribe('feed', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE');
    expect(rec.events).toEqual(events);
    expect(rec.bytes).toEqual(events.map((e) => Buffer.byteLength(JSON.stringify(['EVENT', 'feed', e]))));
    expect(r.reqs).toEqual([{ conn: 0, id: 'feed', filters: [{ kinds: [1], limit: 10 }] }]);
    const s = c.state();
    expect(s).toMatchObject({ status: 'connected', stable: true, subscriptions: 1, activeSubscriptions: 1, eventsReceived: 3, framesReceived: 4 });
    expect(s.lastEoseAt).not.toBeNull();
    expect(c.subscriptionStatus('feed')).toBe('live');
  });

  it('a subscription made after connecting is sent at once; unsubscribe sends CLOSE; late events are counted apart', async () => {
    let socket: WebSocket | null = null;
    const r = await relay({ onConnection: (ws) => (socket = ws) });
    const c = connection({ url: r.url });
    c.start();
    await waitFor(() => c.state().status === 'connected', 'connected');
    const rec = recorder();
    c.subscribe('late', rec.spec);
    await waitFor(() => rec.eoses === 1, 'EOSE');
    expect(c.unsubscribe('late')).toBe(true);
    expect(c.unsubscribe('late')).toBe(false);
    await waitFor(() => r.closes.length === 1, 'CLOSE');
    socket!.send(JSON.stringify(['EVENT', 'late', ev(1)]));
    socket!.send(JSON.stringify(['EVENT', 'never', ev(2)]));
    await waitFor(() => c.state().framesReceived === 3, 'frames');
    expect(c.state().rejects).toMatchObject({ late_event: 1, unknown_subscription: 1 });
    expect(rec.events).toEqual([]);
  });

  it('queues REQs above maxSubscriptions and sends them as slots free', async () => {
    const r = await relay();
    const c = connection({ url: r.url, maxSubscriptions: 2 });
    const recs = ['a', 'b', 'c'].map((id) => {
      const rec = recorder();
      c.subscribe(id, rec.spec);
      return rec;
    });
    c.start();
    await waitFor(() => recs[0]!.eoses === 1 && recs[1]!.eoses === 1, 'two EOSEs');
    expect(r.reqs.map((q) => q.id)).toEqual(['a', 'b']);
    expect(c.subscriptionStatus('c')).toBe('queued');
    expect(c.state()).toMatchObject({ activeSubscriptions: 2, queuedSubscriptions: 1 });
    c.unsubscribe('a');
    await waitFor(() => recs[2]!.eoses === 1, 'third EOSE');
    expect(r.reqs.map((q) => q.id)).toEqual(['a', 'b', 'c']);
    expect(r.closes.map((q) => q.id)).toEqual(['a']);
    // raising the ceiling is immediate
    c.setMaxSubscriptions(5);
    c.subscribe('d', recorder().spec);
    await waitFor(() => r.reqs.length === 4, 'REQ d');
  });

  it('learns the REQ ceiling from a CLOSED that names it', async () => {
    const r = await relay({
      onReq: (ws, req) => {
        const open = new Set(r.reqs.filter((q) => q.conn === req.conn).map((q) => q.id));
        for (const cl of r.closes) open.delete(cl.id);
        if (open.size > 2) ws.send(JSON.stringify(['CLOSED', req.id, 'error: too many concurrent REQs']));
        else ws.send(JSON.stringify(['EOSE', req.id]));
      },
    });
    const c = connection({ url: r.url });
    const recs = ['a', 'b', 'c'].map((id) => {
      const rec = recorder();
      c.subscribe(id, rec.spec);
      return rec;
    });
    c.start();
    await waitFor(() => c.state().maxSubscriptions === 2, 'learned ceiling');
    expect(c.subscriptionStatus('c')).toBe('queued');
    expect(recs[2]!.closed).toEqual([]);
    c.unsubscribe('a');
    await waitFor(() => recs[2]!.eoses === 1, 'c served after a slot freed');
  });

  it('a CLOSED with another prefix goes to onClosed and is not re-sent until resubscribe()', async () => {
    let refuse = true;
    const r = await relay({
      onReq: (ws, req) =>
        ws.send(JSON.stringify(req.id === 'x' && refuse ? ['CLOSED', 'x', 'restricted: members only'] : ['EOSE', req.id])),
    });
    const c = connection({ url: r.url });
    const x = recorder();
    const y = recorder();
    c.subscribe('x', x.spec);
    c.start();
    await waitFor(() => x.closed.length === 1, 'onClosed');
    expect(x.closed).toEqual([{ reason: 'restricted: members only', prefix: 'restricted' }]);
    expect(c.subscriptionStatus('x')).toBe('closed');
    c.subscribe('y', y.spec); // a round trip after the CLOSED
    await waitFor(() => y.eoses === 1, 'y EOSE');
    expect(r.reqsFor('x')).toHaveLength(1);
    refuse = false;
    c.resubscribe('x');
    await waitFor(() => x.eoses === 1, 'x EOSE after resubscribe');
    expect(r.reqsFor('x')).toHaveLength(2);
  });

  it('rate-limited CLOSED: re-sent after growing delays, not reported', async () => {
    let refusals = 0;
    const r = await relay({
      onReq: (ws, req) => {
        if (refusals < 3) {
          refusals++;
          ws.send(JSON.stringify(['CLOSED', req.id, 'rate-limited: slow down']));
        } else sendEvents(ws, req.id, [ev(1)]);
      },
    });
    const c = connection({ url: r.url, rateLimitBackoff: { minMs: 10, maxMs: 1_000 }, random: () => 0.999 });
    const waits: number[] = [];
    let lastUntil: number | null = null;
    c.on('status', (s) => {
      if (s.rateLimitedUntil !== null && s.rateLimitedUntil !== lastUntil) waits.push(s.rateLimitedUntil - Date.now());
      lastUntil = s.rateLimitedUntil;
    });
    const rec = recorder();
    c.subscribe('s', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after rate limits');
    expect(r.reqsFor('s')).toHaveLength(4);
    expect(rec.closed).toEqual([]);
    expect(rec.events).toEqual([ev(1)]);
    // every refusal published a retry time; with random ~1 the waits are 20, 40, 80 ms
    expect(waits).toHaveLength(3);
    expect(waits[1]!).toBeGreaterThan(waits[0]! * 1.5);
    expect(waits[2]!).toBeGreaterThan(waits[1]! * 1.5);
    expect(c.state().rateLimitedUntil).toBeNull();
  });

  it('onEvent and onEose errors are counted and reported, never thrown into the socket', async () => {
    const r = await relay({ onReq: (ws, req) => sendEvents(ws, req.id, [ev(1), ev(2), ev(3)]) });
    const c = connection({ url: r.url });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    c.on('status', () => {
      throw new Error('observer bug');
    });
    const got: string[] = [];
    let eose = false;
    c.subscribe('s', {
      filters: () => [{}],
      onEvent: (e) => {
        got.push((e as NostrEvent).id);
        if (got.length === 1) throw new Error('sync boom');
        if (got.length === 2) return Promise.reject(new Error('async boom'));
      },
      onEose: () => {
        eose = true;
        throw new Error('eose boom');
      },
      onClosed: () => {},
    });
    c.start();
    await waitFor(() => eose && c.state().handlerErrors === 3, 'errors counted');
    expect(got).toHaveLength(3);
    expect(errors.map((e) => e.message).sort()).toEqual(['async boom', 'eose boom', 'sync boom']);
    expect(c.state().status).toBe('connected');
  });
});

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

describe('RelayConnection: NIP-42', () => {
  function authRelay(options: { accept?: boolean; challengeAfterClosed?: boolean } = {}) {
    const challenges: string[] = [];
    const authed = new Set<number>();
    const authEvents: NostrEvent[] = [];
    return {
      challenges,
      authEvents,
      start: () =>
        relay({
          onConnection: (ws, conn) => {
            const challenge = `challenge-${conn}`;
            challenges.push(challenge);
            if (!options.challengeAfterClosed) ws.send(JSON.stringify(['AUTH', challenge]));
          },
          onReq: (ws, req) => {
            if (!authed.has(req.conn)) {
              ws.send(JSON.stringify(['CLOSED', req.id, 'auth-required: we only serve members']));
              if (options.challengeAfterClosed) ws.send(JSON.stringify(['AUTH', challenges[req.conn]]));
            } else sendEvents(ws, req.id, [ev(1)]);
          },
          onOther: (ws, msg, conn) => {
            if (msg[0] !== 'AUTH') return;
            const event = msg[1] as NostrEvent;
            authEvents.push(event);
            const tag = (name: string) => event.tags.find((t) => t[0] === name)?.[1];
            const ok =
              (options.accept ?? true) &&
              verifyEvent(event) &&
              event.kind === 22242 &&
              tag('challenge') === challenges[conn] &&
              tag('relay')?.startsWith('ws://127.0.0.1:') === true;
            if (ok) authed.add(conn);
            ws.send(JSON.stringify(['OK', event.id, ok, ok ? '' : 'restricted: not a member']));
          },
        }),
    };
  }

  it('auth-required -> signs the challenge (makeAuthEvent + finalizeEvent) -> resubscribes', async () => {
    const server = authRelay();
    const r = await server.start();
    const sk = generateSecretKey();
    const signed: string[] = [];
    const c = connection({
      url: r.url,
      authSigner: (challenge, relayUrl) => {
        signed.push(challenge);
        return finalizeEvent(makeAuthEvent(relayUrl, challenge), sk) as NostrEvent;
      },
    });
    const rec = recorder();
    c.subscribe('members', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after auth');
    expect(signed).toEqual(['challenge-0']);
    expect(rec.events).toEqual([ev(1)]);
    expect(rec.closed).toEqual([]);
    expect(r.reqsFor('members')).toHaveLength(2);
    expect(c.state()).toMatchObject({ authRequired: true, authenticated: true });

    // a new connection gets a new challenge and authenticates again
    r.dropAll();
    await waitFor(() => rec.eoses === 2, 'EOSE after reconnect');
    expect(signed).toEqual(['challenge-0', 'challenge-1']);
  });

  it('a challenge that arrives after the auth-required CLOSED still triggers auth', async () => {
    const r = await authRelay({ challengeAfterClosed: true }).start();
    const sk = generateSecretKey();
    const c = connection({ url: r.url, authSigner: (ch, url) => finalizeEvent(makeAuthEvent(url, ch), sk) as NostrEvent });
    const rec = recorder();
    c.subscribe('members', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after late challenge');
    expect(c.state().authenticated).toBe(true);
    expect(rec.closed).toEqual([]);
  });

  it('without a key the subscription is parked and reported', async () => {
    const r = await authRelay().start();
    const c = connection({ url: r.url, authSigner: () => null });
    const rec = recorder();
    c.subscribe('members', rec.spec);
    c.start();
    await waitFor(() => rec.closed.length === 1, 'reported');
    expect(rec.closed[0]).toEqual({ reason: 'auth-required: we only serve members', prefix: 'auth-required' });
    expect(c.subscriptionStatus('members')).toBe('auth_parked');
    expect(c.state()).toMatchObject({ authRequired: true, authenticated: false });

    const noSigner = connection({ url: r.url });
    const rec2 = recorder();
    noSigner.subscribe('members', rec2.spec);
    noSigner.start();
    await waitFor(() => rec2.closed.length === 1, 'reported without signer');
    expect(noSigner.subscriptionStatus('members')).toBe('auth_parked');
  });

  it('an AUTH the relay refuses reports the parked subscription', async () => {
    const r = await authRelay({ accept: false }).start();
    const sk = generateSecretKey();
    const c = connection({ url: r.url, authSigner: (ch, url) => finalizeEvent(makeAuthEvent(url, ch), sk) as NostrEvent });
    const rec = recorder();
    c.subscribe('members', rec.spec);
    c.start();
    await waitFor(() => rec.closed.length === 1, 'reported');
    expect(c.state()).toMatchObject({ authenticated: false, authRequired: true });
    expect(c.state().lastError).toMatch(/auth rejected: restricted/);
  });
});

describe('RelayConnection: hostile relay and flow control', () => {
  it('survives ≥ 10,000 malformed frames interleaved with good events; counts every one by reason', async () => {
    const maxFrameBytes = 2_048;
    const expected = Object.fromEntries(RELAY_REJECT_REASONS.map((k) => [k, 0])) as Record<RelayRejectReason, number>;
    const goodIds: string[] = [];
    let total = 0;
    const bad: Array<[RelayRejectReason, string | Buffer]> = [
      ['frame_too_large', JSON.stringify(['EVENT', 'h', { ...ev(0), content: 'x'.repeat(maxFrameBytes) }])],
      ['bad_json', '["EVENT","h",{"id":'],
      ['bad_json', '\u0000\u0001garbage'],
      ['not_array', '{"EVENT":1}'],
      ['not_array', '42'],
      ['empty_array', '[]'],
      ['bad_type', '[1,"h",{}]'],
      ['unknown_type', '["HELLO","h"]'],
      ['unknown_type', '["REQ","h",{}]'],
      ['bad_event_frame', '["EVENT","h"]'],
      ['bad_event_frame', '["EVENT",7,{}]'],
      ['bad_event_frame', '["EVENT","h","not an event"]'],
      ['bad_eose_frame', '["EOSE"]'],
      ['bad_closed_frame', '["CLOSED","h",404]'],
      ['bad_notice_frame', '["NOTICE",{}]'],
      ['bad_ok_frame', '["OK","x","yes",""]'],
      ['bad_auth_frame', '["AUTH",""]'],
      ['bad_count_frame', '["COUNT","h",{"count":"many"}]'],
      ['bad_neg_frame', '["NEG-MSG","h",123]'],
      ['binary_frame', Buffer.from('["EVENT","h",{}]')],
      ['unknown_subscription', JSON.stringify(['EVENT', 'nobody', ev(0)])],
      ['unknown_subscription', '["EOSE","nobody"]'],
    ];
    const r = await relay({
      onReq: (ws, req) => {
        let good = 0;
        for (let i = 0; i < 11_000; i++) {
          if (i % 10 === 0) {
            const e = ev(++good);
            goodIds.push(e.id);
            ws.send(JSON.stringify(['EVENT', req.id, e]));
          } else {
            const [reason, frame] = bad[i % bad.length]!;
            expected[reason]++;
            ws.send(frame, { binary: Buffer.isBuffer(frame) });
          }
          total++;
        }
        // valid frames that are not events are not rejects
        ws.send(JSON.stringify(['NOTICE', 'still here']));
        ws.send(JSON.stringify(['CLOSED', 'nobody', 'error: whatever']));
        ws.send(JSON.stringify(['EOSE', req.id]));
        total += 3;
      },
    });
    const c = connection({ url: r.url, maxFrameBytes });
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n));
    const rec = recorder(() => [{ kinds: [1] }], () => Promise.resolve());
    c.subscribe('h', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE after the flood', 20_000);
    const s = c.state();
    const malformed = Object.values(expected).reduce((a, b) => a + b, 0);
    expect(malformed).toBeGreaterThanOrEqual(9_900);
    expect(s.rejects).toEqual(expected);
    expect(Object.values(s.rejects).reduce((a, b) => a + b, 0)).toBe(malformed);
    expect(s.framesReceived).toBe(total);
    expect(rec.events.map((e) => e.id)).toEqual(goodIds);
    expect(notices).toEqual(['still here']);
    expect(s).toMatchObject({ status: 'connected', handlerErrors: 0, failures: 0 });
  });

  it('backpressure: a slow onEvent keeps pending promises bounded; order and EOSE after all kept', async () => {
    const count = 4_000;
    const r = await relay({ onReq: (ws, req) => sendEvents(ws, req.id, Array.from({ length: count }, (_, i) => ev(i + 1))) });
    const c = connection({ url: r.url, highWaterMark: 100, lowWaterMark: 20 });
    let pending = 0;
    let maxPending = 0;
    let pendingAtEose = -1;
    let sawPaused = false;
    c.on('status', (s) => (sawPaused ||= s.paused));
    const waiting: Array<() => void> = [];
    const drain = setInterval(() => {
      for (const resolve of waiting.splice(0, 25)) resolve();
    }, 2);
    cleanups.push(() => clearInterval(drain));
    const got: number[] = [];
    c.subscribe('slow', {
      filters: () => [{}],
      onEvent: (e) => {
        got.push((e as NostrEvent).created_at);
        pending++;
        maxPending = Math.max(maxPending, pending);
        return new Promise<void>((resolve) =>
          waiting.push(() => {
            pending--;
            resolve();
          }),
        );
      },
      onEose: () => void (pendingAtEose = pending),
      onClosed: () => {},
    });
    c.start();
    await waitFor(() => pendingAtEose >= 0, 'EOSE', 20_000);
    expect(got).toEqual(Array.from({ length: count }, (_, i) => 1_001 + i));
    expect(sawPaused).toBe(true);
    // High-water mark plus what ws had already read when the socket paused (one read's worth).
    expect(maxPending).toBeLessThan(100 + 600);
    expect(pendingAtEose).toBe(0);
    await waitFor(() => !c.state().paused, 'resumed');
    expect(c.state().inFlight).toBe(0);
  });

  it('manual pause() stops reading; resume() delivers what waited', async () => {
    let socket: WebSocket | null = null;
    const r = await relay({ onConnection: (ws) => (socket = ws) });
    const c = connection({ url: r.url });
    const rec = recorder();
    c.subscribe('s', rec.spec);
    c.start();
    await waitFor(() => rec.eoses === 1, 'EOSE');
    c.pause();
    expect(c.state().paused).toBe(true);
    sendEvents(socket!, 's', [ev(1), ev(2), ev(3)], false);
    await sleep(100);
    expect(rec.events).toEqual([]);
    c.resume();
    await waitFor(() => rec.events.length === 3, 'events after resume');
    expect(c.state().paused).toBe(false);
  });
});

describe('RelayConnection against a real relay (@nostr-relay/core on 127.0.0.1)', () => {
  const sk = generateSecretKey();
  const note = (n: number, created_at: number) =>
    finalizeEvent({ kind: 1, created_at, tags: [['t', 'rc-test']], content: `note ${n}` }, sk) as NostrEvent;

  it('stored events then EOSE, then live events; reconnect after a relay restart resumes from the cursor', async () => {
    const { startTestRelay } = await import('../helpers/relay.js');
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
    const { startTestRelay } = await import('../helpers/relay.js');
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
