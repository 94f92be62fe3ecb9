/**
 * The socket lifecycle of one relay: connect (with a handshake timeout), keepalive pings and the
 * pong they wait for, reconnects paced by exponential backoff with jitter and a circuit breaker
 * (backoff.ts), and a polite stop. One socket at a time: callbacks of an older one are ignored.
 * What happens on the socket (frames, subscriptions, auth) is the connection's other stages.
 */
import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { Logger } from '../../log.js';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import {
  circuitAllows,
  circuitOnFailure,
  circuitOnSuccess,
  initialBackoff,
  initialCircuit,
  nextBackoff,
  type BackoffOptions,
  type BackoffState,
  type CircuitOptions,
  type CircuitState,
} from './backoff.js';
import type { RelayState, RelayStatus } from './types.js';

export interface SocketOptions {
  maxPayloadBytes: number;
  keepaliveMs: number;
  pongTimeoutMs: number;
  connectTimeoutMs: number;
  stableAfterMs: number;
  closeTimeoutMs: number;
  backoff: BackoffOptions;
  circuit: CircuitOptions;
}

/** What the socket tells the connection's other stages. */
export interface SocketHost {
  readonly log: Logger;
  readonly now: Clock;
  readonly random: () => number;
  /** A socket opened; called before the status becomes `connected`. */
  opening(): void;
  /** The status is `connected`: send what waits. */
  connected(): void;
  /** The socket is gone (before a reconnect is scheduled). */
  disconnected(): void;
  /** stop() on an open socket, before the close frame (CLOSE per subscription). */
  closing(): void;
  message(data: RawData, isBinary: boolean): void;
  /** Reading is paused (flow control): no ping, since its pong could not be read. */
  paused(): boolean;
  emitStatus(): void;
}

type TimerName = 'reconnectTimer' | 'connectTimer' | 'keepaliveTimer' | 'pongTimer' | 'stableTimer';

export class RelaySocket {
  status: RelayStatus = 'idle';
  ws: WebSocket | null = null;
  /** Identifies the current socket; callbacks of older sockets are ignored. */
  id = 0;
  /** First error of the current socket (a timeout beats ws's follow-up "closed before ..." error). */
  private socketError: string | null = null;
  private backoffState: BackoffState = initialBackoff();
  private circuit: CircuitState = initialCircuit();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private pongTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private stopPromise: Promise<void> | null = null;
  private failures = 0;
  private stable = false;
  private nextAttemptAt: number | null = null;
  private connectedAt: number | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly url: string,
    private readonly host: SocketHost,
    private readonly o: SocketOptions,
  ) {}

  /** The lifecycle's part of RelayState. */
  state(): Pick<RelayState, 'status' | 'failures' | 'consecutiveFailures' | 'circuit' | 'nextAttemptAt' | 'connectedAt' | 'stable' | 'lastError'> {
    return {
      status: this.status,
      failures: this.failures,
      consecutiveFailures: this.circuit.consecutiveFailures,
      circuit: this.circuit.status,
      nextAttemptAt: this.nextAttemptAt,
      connectedAt: this.connectedAt,
      stable: this.stable,
      lastError: this.lastError,
    };
  }

  start(): void {
    if (this.status !== 'idle') return;
    this.connect();
  }

  /** Closes the socket politely (host.closing, close frame) and never reconnects. */
  stop(beforeStatus: () => void): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.clearTimer('reconnectTimer');
    beforeStatus();
    this.nextAttemptAt = null;
    const ws = this.ws;
    this.setStatus('stopped');
    this.stopPromise = new Promise<void>((resolve) => {
      if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => ws.terminate(), this.o.closeTimeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) {
        this.host.closing();
        ws.close(1000, 'stopping');
      } else {
        ws.terminate();
      }
    });
    return this.stopPromise;
  }

  send(text: string): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(text, (err) => {
        if (err) this.recordError(`send: ${errorMessage(err)}`);
      });
      return true;
    } catch (err) {
      this.recordError(`send: ${errorMessage(err)}`);
      return false;
    }
  }

  isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.status === 'connected';
  }

  /** Remembers an error; for the socket's own errors the first one wins (the cause, not the echo). */
  recordError(message: string, fromSocket = false): void {
    if (fromSocket && this.socketError !== null) return;
    if (this.socketError === null) this.socketError = message;
    this.lastError = message;
  }

  /** Any frame proves the peer alive, as a pong would; a paused socket waits for no pong. */
  clearPong(): void {
    if (this.pongTimer) this.clearTimer('pongTimer');
  }

  /** The connection is good (its first EOSE, or stableAfterMs up): backoff and circuit reset. */
  markStable(): void {
    this.clearTimer('stableTimer');
    if (this.stable || this.status !== 'connected') return;
    this.stable = true;
    this.backoffState = initialBackoff();
    this.circuit = circuitOnSuccess(this.circuit);
    this.host.emitStatus();
  }

  private connect(): void {
    if (this.status === 'stopped') return;
    this.nextAttemptAt = null;
    this.socketError = null;
    const id = ++this.id;
    this.setStatus('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, {
        maxPayload: this.o.maxPayloadBytes,
        // A text frame with invalid UTF-8 is decoded with replacement characters and its event then
        // fails the id check (counted), instead of ws closing the whole connection (1007). It also
        // spares a validation pass over every byte.
        skipUTF8Validation: true,
        handshakeTimeout: this.o.connectTimeoutMs,
        followRedirects: false,
      });
    } catch (err) {
      this.recordError(`connect: ${errorMessage(err)}`);
      this.onDisconnected(id);
      return;
    }
    this.ws = ws;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (id !== this.id || ws.readyState !== WebSocket.CONNECTING) return;
      this.recordError(`connect timeout after ${this.o.connectTimeoutMs} ms`);
      ws.terminate();
    }, this.o.connectTimeoutMs);
    ws.on('open', () => this.onOpen(id));
    ws.on('message', (data, isBinary) => {
      if (id !== this.id) return;
      this.clearPong();
      this.host.message(data, isBinary);
    });
    ws.on('pong', () => {
      if (id === this.id) this.clearTimer('pongTimer');
    });
    ws.on('error', (err) => {
      if (id === this.id) this.recordError(errorMessage(err), true);
    });
    ws.on('close', (code, reason) => {
      if (id !== this.id) return;
      if (!this.socketError && this.status !== 'stopped') {
        this.recordError(`closed by relay: ${code}${reason.length ? ` ${reason.toString('utf8')}` : ''}`);
      }
      this.onDisconnected(id);
    });
  }

  private onOpen(id: number): void {
    if (id !== this.id) return;
    this.clearTimer('connectTimer');
    if (this.status === 'stopped') return;
    this.connectedAt = this.host.now();
    this.stable = false;
    this.host.log.info('relay connected');
    this.keepaliveTimer = setInterval(() => this.keepalive(id), this.o.keepaliveMs);
    this.stableTimer = setTimeout(() => this.markStable(), this.o.stableAfterMs);
    this.host.opening();
    this.setStatus('connected');
    this.host.connected();
  }

  private keepalive(id: number): void {
    const ws = this.ws;
    if (id !== this.id || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (this.host.paused() || this.pongTimer) return;
    try {
      ws.ping();
    } catch {
      return;
    }
    this.pongTimer = setTimeout(() => {
      this.pongTimer = null;
      if (id !== this.id) return;
      this.recordError(`no pong within ${this.o.pongTimeoutMs} ms`);
      this.host.log.warn('relay keepalive timeout; reconnecting');
      ws.terminate();
    }, this.o.pongTimeoutMs);
  }

  private onDisconnected(id: number): void {
    if (id !== this.id) return;
    for (const t of ['connectTimer', 'keepaliveTimer', 'pongTimer', 'stableTimer'] as const) this.clearTimer(t);
    this.ws = null;
    this.connectedAt = null;
    this.stable = false;
    this.host.disconnected();
    if (this.status === 'stopped') return;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const now = this.host.now();
    this.failures++;
    this.circuit = circuitOnFailure(this.circuit, this.o.circuit, now);
    const next = nextBackoff(this.backoffState, this.o.backoff, this.host.random);
    this.backoffState = next.state;
    let at = now + next.delayMs;
    if (this.circuit.status === 'open' && this.circuit.openUntil !== null) {
      at = Math.max(at, this.circuit.openUntil);
      this.host.log.warn({ until: new Date(at).toISOString(), failures: this.circuit.consecutiveFailures }, 'relay circuit open');
    } else {
      this.host.log.debug({ delayMs: next.delayMs, error: this.lastError }, 'relay reconnect scheduled');
    }
    this.nextAttemptAt = at;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      // The timer ran to `at`, which is no earlier than the cool-down's end: the attempt is the
      // circuit's half-open trial. (The clock may lag the timer by a millisecond; `at` may not.)
      this.circuit = circuitAllows(this.circuit, Math.max(this.host.now(), at)).state;
      this.connect();
    }, at - now);
    this.setStatus(this.circuit.status === 'open' ? 'open_circuit' : 'backoff');
  }

  private setStatus(status: RelayStatus): void {
    if (this.status === 'stopped' && status !== 'stopped') return;
    this.status = status;
    this.host.emitStatus();
  }

  private clearTimer(name: TimerName): void {
    const t = this[name];
    if (t) {
      clearTimeout(t); // also clears intervals
      this[name] = null;
    }
  }
}
