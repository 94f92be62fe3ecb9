/**
 * A scripted relay for RelayConnection tests: a `ws` server on 127.0.0.1 whose answers each test
 * writes (never a real relay), and the helpers the relay/ tests share. Timeouts are configured
 * small; assertions wait for conditions with generous upper bounds, never on timing.
 */
import { createServer } from 'node:net';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Filter } from 'nostr-tools/filter';
import { RelayConnection, type RelayConnectionOptions, type SubscriptionSpec } from '../../src/ingest/relay/connection.js';
import type { NostrEvent } from '../../src/nostr/types.js';

export const log = pino({ level: 'silent' });

// ── a scripted relay ─────────────────────────────────────────────────────────────────────────

export interface Req {
  conn: number;
  id: string;
  filters: Filter[];
}

export interface ScriptedRelayOptions {
  port?: number;
  autoPong?: boolean;
  /** Called on every REQ; default: answer EOSE at once. */
  onReq?: (ws: WebSocket, req: Req, relay: ScriptedRelay) => void;
  onConnection?: (ws: WebSocket, conn: number) => void;
  onOther?: (ws: WebSocket, msg: unknown[], conn: number) => void;
}

export class ScriptedRelay {
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

export const cleanups: Array<() => Promise<void> | void> = [];
/** Each test file runs this after each test: relays closed, connections stopped. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!();
}

export async function relay(options?: ScriptedRelayOptions): Promise<ScriptedRelay> {
  const r = await ScriptedRelay.start(options);
  cleanups.push(() => r.close());
  return r;
}

export function connection(options: Partial<RelayConnectionOptions> & { url: string }): RelayConnection {
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on (for refused connections); it can be listened on later. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function ev(n: number, extra: Partial<NostrEvent> = {}): NostrEvent {
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

export interface Recorder {
  events: NostrEvent[];
  bytes: number[];
  eoses: number;
  closed: Array<{ reason: string; prefix: string | null }>;
  spec: SubscriptionSpec;
}

export function recorder(filters: () => Filter[] = () => [{ kinds: [1] }], onEvent?: (e: NostrEvent) => void | Promise<void>): Recorder {
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

export function sendEvents(ws: WebSocket, id: string, events: NostrEvent[], eose = true): void {
  for (const e of events) ws.send(JSON.stringify(['EVENT', id, e]));
  if (eose) ws.send(JSON.stringify(['EOSE', id]));
}
