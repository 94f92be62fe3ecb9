/**
 * A scriptable fake relay on 127.0.0.1 (our own `ws` server) for tests that need exact raw frames:
 * bad JSON, wrong types, huge frames, bad ids or signatures, unknown message types, EVENT for
 * subscriptions the client never opened. Each connection runs the test's script, which sees the
 * client's frames and writes whatever it likes back.
 *
 *   const relay = await startHostileRelay(async (peer) => {
 *     const [, subId] = await peer.nextRequest();
 *     await peer.send('["EVENT", oops');            // raw text goes out as is
 *     await peer.send(['EVENT', subId, goodEvent]);  // anything else is JSON-encoded
 *     await peer.send(['EOSE', subId]);
 *   });
 *   ...
 *   await relay.close();
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

/** A frame to send: a string or Buffer goes out verbatim, anything else as JSON. */
export type Frame = string | Buffer | readonly unknown[] | Record<string, unknown>;

export interface HostilePeer {
  /** The server side of this client's WebSocket (for close codes, pings, terminate…). */
  readonly socket: WebSocket;
  /** Every text frame the client sent so far, raw. */
  readonly received: readonly string[];
  /** Resolves with the next client frame parsed as JSON (or the raw text when it is not JSON). */
  nextFrame(): Promise<unknown>;
  /** Resolves with the next `["REQ", subId, ...filters]` from the client, skipping other frames. */
  nextRequest(): Promise<[string, string, ...Record<string, unknown>[]]>;
  /** Sends one frame; resolves once it is handed to the socket. */
  send(frame: Frame): Promise<void>;
  /** Sends many frames in order, waiting for the socket's buffer to drain every `batch` frames. */
  sendAll(frames: Iterable<Frame>, batch?: number): Promise<void>;
  /** Resolves when the client has disconnected. */
  readonly closed: Promise<void>;
}

export type HostileScript = (peer: HostilePeer) => void | Promise<void>;

export interface HostileRelay {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Errors thrown by scripts (a script failing must not go unnoticed). */
  readonly scriptErrors: readonly unknown[];
  /** Destroys every client socket (no close frame) and keeps listening. */
  dropConnections(): void;
  /** Stops listening and destroys every socket. Idempotent. */
  close(): Promise<void>;
}

export async function startHostileRelay(
  script: HostileScript,
  options: { port?: number; maxPayload?: number } = {},
): Promise<HostileRelay> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, maxPayload: options.maxPayload ?? 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('error', () => {});
  const port = (wss.address() as AddressInfo).port;
  const sockets = new Set<WebSocket>();
  const scriptErrors: unknown[] = [];
  let connections = 0;
  let closing: Promise<void> | undefined;

  wss.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    const peer = createPeer(socket);
    socket.once('close', () => sockets.delete(socket));
    Promise.resolve()
      .then(() => script(peer))
      .catch((error: unknown) => {
        // A socket the client (or the test) closed mid-script is not a script error.
        if (socket.readyState === WebSocket.OPEN) scriptErrors.push(error);
      });
  });

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    scriptErrors,
    dropConnections() {
      for (const socket of sockets) socket.terminate();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        wss.close(() => resolve());
      });
      return closing;
    },
  };
}

function createPeer(socket: WebSocket): HostilePeer {
  const received: string[] = [];
  const queue: unknown[] = [];
  const waiters: { resolve: (value: unknown) => void; reject: (error: Error) => void }[] = [];
  let ended = false;

  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.once('close', () => {
    ended = true;
    for (const waiter of waiters.splice(0)) waiter.reject(new Error('client disconnected'));
  });
  socket.on('message', (data: RawData) => {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    received.push(text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(parsed);
    else queue.push(parsed);
  });

  function nextFrame(): Promise<unknown> {
    if (queue.length > 0) return Promise.resolve(queue.shift());
    if (ended) return Promise.reject(new Error('client disconnected'));
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  function send(frame: Frame): Promise<void> {
    const data = typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame);
    return new Promise<void>((resolve, reject) => {
      if (socket.readyState !== WebSocket.OPEN) return reject(new Error('client disconnected'));
      // Strings go as text frames; a Buffer too, unless the test wants binary (use socket directly).
      socket.send(data, { binary: false }, (error) => (error ? reject(error) : resolve()));
    });
  }

  return {
    socket,
    received,
    nextFrame,
    async nextRequest() {
      for (;;) {
        const frame = await nextFrame();
        if (Array.isArray(frame) && frame[0] === 'REQ' && typeof frame[1] === 'string') {
          return frame as [string, string, ...Record<string, unknown>[]];
        }
      }
    },
    send,
    async sendAll(frames, batch = 256) {
      let pending: Promise<void>[] = [];
      for (const frame of frames) {
        pending.push(send(frame));
        if (pending.length >= batch) {
          await Promise.all(pending);
          pending = [];
        }
      }
      await Promise.all(pending);
    },
    closed,
  };
}
