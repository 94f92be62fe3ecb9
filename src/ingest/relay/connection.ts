/**
 * One relay, one WebSocket: our own thin NIP-01 client over `ws`, built for a long-running ingest
 * daemon rather than an app. This file is the socket's lifecycle (connect, keepalive ping and pong,
 * reconnects paced by backoff with jitter and a circuit breaker, stop); the rest is one stage per
 * file beside it, each owning its state:
 *
 *   frames.ts             every received frame, size-checked, parsed and routed (hostile input)
 *   subscriptions.ts      the SubscriptionTable: REQ queue under the ceiling, CLOSED, EOSE
 *   auth.ts               NIP-42
 *   negentropy-sessions   NIP-77 sessions
 *   flow-control.ts       pausing the socket while too many events are pending
 *
 * Subscriptions survive reconnects: they are re-sent with freshly evaluated filters. Events are
 * handed over unverified: the pipeline does shape check, dedupe and verification. All times in the
 * state are milliseconds from the injected clock (`now`, default Date.now).
 */
import WebSocket from 'ws';
import type { Filter } from 'nostr-tools/filter';
import type { Logger } from '../../log.js';
import type { RelayFrame } from '../../nostr/relay-frames.js';
import { systemClock, type Clock } from '../clock.js';
import { asError, errorMessage } from '../errors.js';
import { Nip42Auth } from './auth.js';
import {
  backoffOptions,
  circuitAllows,
  circuitOnFailure,
  circuitOnSuccess,
  circuitOptions,
  initialBackoff,
  initialCircuit,
  nextBackoff,
  type BackoffOptions,
  type BackoffState,
  type CircuitOptions,
  type CircuitState,
} from './backoff.js';
import { Emitter } from './emitter.js';
import { FlowControl } from './flow-control.js';
import { FrameCounters, FrameReader } from './frames.js';
import { NegentropySessions } from './negentropy-sessions.js';
import { SubscriptionTable } from './subscriptions.js';
import type {
  NegentropySessionSpec,
  RelayConnectionEvents,
  RelayConnectionOptions,
  RelayState,
  RelayStatus,
  SubscriptionSpec,
  SubscriptionStatus,
} from './types.js';

export * from './types.js';

type TimerName = 'reconnectTimer' | 'connectTimer' | 'keepaliveTimer' | 'pongTimer' | 'stableTimer';

export class RelayConnection extends Emitter<RelayConnectionEvents> {
  readonly url: string;
  readonly log: Logger;
  readonly now: Clock;
  readonly random: () => number;
  private readonly opts: {
    maxPayloadBytes: number;
    keepaliveMs: number;
    pongTimeoutMs: number;
    connectTimeoutMs: number;
    stableAfterMs: number;
    closeTimeoutMs: number;
  };
  private readonly backoffOpts: BackoffOptions;
  private readonly circuitOpts: CircuitOptions;

  readonly counters = new FrameCounters();
  readonly subs: SubscriptionTable;
  readonly auth: Nip42Auth;
  readonly negentropy: NegentropySessions;
  readonly flow: FlowControl;
  private readonly frames: FrameReader;

  private status: RelayStatus = 'idle';
  private ws: WebSocket | null = null;
  /** Identifies the current socket; callbacks of older sockets are ignored. */
  private currentSocket = 0;
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

  constructor(options: RelayConnectionOptions) {
    super();
    const url = new URL(options.url); // throws on a malformed URL: a config error, not a retry case
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new TypeError(`relay URL must be ws:// or wss://: ${options.url}`);
    }
    this.url = options.url;
    this.log = options.log.child({ relay: options.url });
    this.now = options.now ?? systemClock;
    this.random = options.random ?? Math.random;
    const highWaterMark = options.highWaterMark ?? 1_000;
    this.opts = {
      maxPayloadBytes: options.maxPayloadBytes ?? Math.max(16 * 1024 * 1024, 4 * options.maxFrameBytes),
      keepaliveMs: options.keepaliveMs ?? 30_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      stableAfterMs: options.stableAfterMs ?? 30_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 2_000,
    };
    this.backoffOpts = backoffOptions(options.backoff);
    this.circuitOpts = circuitOptions(options.circuit);
    const rateLimitOpts = backoffOptions({ minMs: 5_000, maxMs: 5 * 60_000, ...options.rateLimitBackoff });
    this.subs = new SubscriptionTable(
      {
        log: this.log,
        now: this.now,
        random: this.random,
        send: (text) => this.send(text),
        isOpen: () => this.isOpen(),
        handlerError: (err) => this.handlerError(err),
        emitStatus: () => this.emitStatus(),
        authRequired: (sub) => this.auth.onParked(sub),
      },
      options.maxSubscriptions ?? 20,
      rateLimitOpts,
    );
    this.auth = new Nip42Auth(
      {
        url: this.url,
        log: this.log,
        socketId: () => this.currentSocket,
        isOpen: () => this.isOpen(),
        send: (text) => this.send(text),
        recordError: (message) => this.recordError(message),
        emitStatus: () => this.emitStatus(),
      },
      this.subs,
      options.authSigner,
    );
    this.negentropy = new NegentropySessions(
      {
        isOpen: () => this.isOpen(),
        send: (text) => this.send(text),
        reject: (reason) => this.frames.reject(reason),
        handlerError: (err) => this.handlerError(err),
      },
      this.subs.recentlyClosed,
    );
    this.flow = new FlowControl(
      {
        socket: () => this.ws,
        onPaused: () => this.clearTimer('pongTimer'),
        emitStatus: () => this.emitStatus(),
        handlerError: (err) => this.handlerError(err),
      },
      highWaterMark,
      Math.min(options.lowWaterMark ?? Math.floor(highWaterMark / 4), highWaterMark - 1),
    );
    this.frames = new FrameReader(
      {
        log: this.log,
        now: this.now,
        counters: this.counters,
        subs: this.subs,
        auth: this.auth,
        negentropy: this.negentropy,
        flow: this.flow,
        handlerError: (err) => this.handlerError(err),
        markStable: () => this.markStable(),
        notice: (message) => this.emit('notice', message),
        unclaimed: (frame: RelayFrame) => this.emit('message', frame),
      },
      options.maxFrameBytes,
      options.takeKnownCopies ?? false,
    );
  }

  // ── lifecycle ───────────────────────────────────────────────────────────────────────────────

  start(): void {
    if (this.status !== 'idle') return;
    this.connect();
  }

  /** Closes the socket politely (CLOSE per subscription, close frame) and never reconnects. */
  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.clearTimer('reconnectTimer');
    this.subs.clearRetries();
    this.nextAttemptAt = null;
    const ws = this.ws;
    this.setStatus('stopped');
    this.stopPromise = new Promise<void>((resolve) => {
      if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => ws.terminate(), this.opts.closeTimeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) {
        this.subs.closeAll();
        ws.close(1000, 'stopping');
      } else {
        ws.terminate();
      }
    });
    return this.stopPromise;
  }

  state(): RelayState {
    const { active, queued, rateLimitedUntil } = this.subs.counts();
    const c = this.counters;
    return {
      url: this.url,
      status: this.status,
      failures: this.failures,
      consecutiveFailures: this.circuit.consecutiveFailures,
      circuit: this.circuit.status,
      nextAttemptAt: this.nextAttemptAt,
      connectedAt: this.connectedAt,
      stable: this.stable,
      lastEventAt: c.lastEventAt,
      lastEoseAt: c.lastEoseAt,
      lastError: this.lastError,
      lastNotice: c.lastNotice,
      authRequired: this.auth.required,
      authenticated: this.auth.authenticated,
      rateLimitedUntil,
      rateLimitedCount: this.subs.rateLimitedCount,
      lastRateLimitedAt: this.subs.lastRateLimitedAt,
      framesReceived: c.framesReceived,
      eventsReceived: c.eventsReceived,
      knownEventsSkipped: c.knownEventsSkipped,
      rejects: { ...c.rejects },
      subscriptions: this.subs.size,
      activeSubscriptions: active,
      queuedSubscriptions: queued,
      maxSubscriptions: this.subs.maxSubscriptions,
      learnedMaxSubscriptions: this.subs.learnedMaxSubscriptions,
      paused: this.flow.paused,
      inFlight: this.flow.inFlight,
      handlerErrors: c.handlerErrors,
    };
  }

  // ── the public face of the stages ───────────────────────────────────────────────────────────

  /** Opens (or replaces) a subscription; it is sent now if connected and under the REQ ceiling. */
  subscribe(id: string, spec: SubscriptionSpec): void {
    this.subs.subscribe(id, spec);
  }

  /** Forgets a subscription and sends CLOSE if its REQ is open. False when unknown. */
  unsubscribe(id: string): boolean {
    return this.subs.unsubscribe(id);
  }

  /** Re-sends the REQ with freshly evaluated filters (whatever state the subscription is in). */
  resubscribe(id: string): boolean {
    return this.subs.resubscribe(id);
  }

  subscriptionStatus(id: string): SubscriptionStatus | undefined {
    return this.subs.get(id)?.status;
  }

  /** Sets the REQ ceiling (from NIP-11 or learned); queued subscriptions go out if it rose. */
  setMaxSubscriptions(n: number): void {
    this.subs.setMaxSubscriptions(n);
  }

  /** Sends a raw frame (COUNT, …) if connected. */
  sendRaw(text: string): boolean {
    return this.send(text);
  }

  /**
   * Sends NEG-OPEN and routes the session's NEG-MSG/NEG-ERR to `spec` until closeNegentropy or an
   * error. False when not connected. Sessions do not survive a reconnect (the relay's state is gone).
   */
  openNegentropy(id: string, filter: Filter, initialMessage: string, spec: NegentropySessionSpec): boolean {
    return this.negentropy.open(id, filter, initialMessage, spec);
  }

  /** Sends the next NEG-MSG of an open session. */
  sendNegentropy(id: string, message: string): boolean {
    return this.negentropy.send(id, message);
  }

  /** Ends a session (NEG-CLOSE); late frames for it are then ignored, not counted as hostile. */
  closeNegentropy(id: string): void {
    this.negentropy.close(id);
  }

  pause(): void {
    this.flow.pause();
  }

  resume(): void {
    this.flow.resume();
  }

  // ── the socket ──────────────────────────────────────────────────────────────────────────────

  private connect(): void {
    if (this.status === 'stopped') return;
    this.nextAttemptAt = null;
    this.socketError = null;
    const id = ++this.currentSocket;
    this.setStatus('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, {
        maxPayload: this.opts.maxPayloadBytes,
        // A text frame with invalid UTF-8 is decoded with replacement characters and its event then
        // fails the id check (counted), instead of ws closing the whole connection (1007). It also
        // spares a validation pass over every byte.
        skipUTF8Validation: true,
        handshakeTimeout: this.opts.connectTimeoutMs,
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
      if (id !== this.currentSocket || ws.readyState !== WebSocket.CONNECTING) return;
      this.recordError(`connect timeout after ${this.opts.connectTimeoutMs} ms`);
      ws.terminate();
    }, this.opts.connectTimeoutMs);
    ws.on('open', () => this.onOpen(id));
    ws.on('message', (data, isBinary) => {
      if (id !== this.currentSocket) return;
      this.counters.framesReceived++;
      // Any frame proves the peer alive, as a pong would.
      if (this.pongTimer) this.clearTimer('pongTimer');
      this.frames.read(data, isBinary);
    });
    ws.on('pong', () => {
      if (id === this.currentSocket) this.clearTimer('pongTimer');
    });
    ws.on('error', (err) => {
      if (id === this.currentSocket) this.recordError(errorMessage(err), true);
    });
    ws.on('close', (code, reason) => {
      if (id !== this.currentSocket) return;
      if (!this.socketError && this.status !== 'stopped') {
        this.recordError(`closed by relay: ${code}${reason.length ? ` ${reason.toString('utf8')}` : ''}`);
      }
      this.onDisconnected(id);
    });
  }

  private onOpen(id: number): void {
    if (id !== this.currentSocket) return;
    this.clearTimer('connectTimer');
    if (this.status === 'stopped') return;
    this.connectedAt = this.now();
    this.stable = false;
    this.auth.onOpen();
    this.log.info('relay connected');
    this.keepaliveTimer = setInterval(() => this.keepalive(id), this.opts.keepaliveMs);
    this.stableTimer = setTimeout(() => this.markStable(), this.opts.stableAfterMs);
    this.subs.requeueOnOpen(this.auth.canSign);
    this.setStatus('connected');
    this.flow.apply();
    this.subs.pump();
  }

  private keepalive(id: number): void {
    const ws = this.ws;
    if (id !== this.currentSocket || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (this.flow.paused || this.pongTimer) return;
    try {
      ws.ping();
    } catch {
      return;
    }
    this.pongTimer = setTimeout(() => {
      this.pongTimer = null;
      if (id !== this.currentSocket) return;
      this.recordError(`no pong within ${this.opts.pongTimeoutMs} ms`);
      this.log.warn('relay keepalive timeout; reconnecting');
      ws.terminate();
    }, this.opts.pongTimeoutMs);
  }

  private markStable(): void {
    this.clearTimer('stableTimer');
    if (this.stable || this.status !== 'connected') return;
    this.stable = true;
    this.backoffState = initialBackoff();
    this.circuit = circuitOnSuccess(this.circuit);
    this.emitStatus();
  }

  private onDisconnected(id: number): void {
    if (id !== this.currentSocket) return;
    for (const t of ['connectTimer', 'keepaliveTimer', 'pongTimer', 'stableTimer'] as const) this.clearTimer(t);
    this.ws = null;
    this.connectedAt = null;
    this.stable = false;
    this.auth.onDisconnect();
    this.subs.requeueOnDisconnect();
    this.negentropy.onDisconnect();
    if (this.status === 'stopped') return;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const now = this.now();
    this.failures++;
    this.circuit = circuitOnFailure(this.circuit, this.circuitOpts, now);
    const next = nextBackoff(this.backoffState, this.backoffOpts, this.random);
    this.backoffState = next.state;
    let at = now + next.delayMs;
    if (this.circuit.status === 'open' && this.circuit.openUntil !== null) {
      at = Math.max(at, this.circuit.openUntil);
      this.log.warn({ until: new Date(at).toISOString(), failures: this.circuit.consecutiveFailures }, 'relay circuit open');
    } else {
      this.log.debug({ delayMs: next.delayMs, error: this.lastError }, 'relay reconnect scheduled');
    }
    this.nextAttemptAt = at;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      // The timer ran to `at`, which is no earlier than the cool-down's end: the attempt is the
      // circuit's half-open trial. (The clock may lag the timer by a millisecond; `at` may not.)
      this.circuit = circuitAllows(this.circuit, Math.max(this.now(), at)).state;
      this.connect();
    }, at - now);
    this.setStatus(this.circuit.status === 'open' ? 'open_circuit' : 'backoff');
  }

  // ── for the stages ──────────────────────────────────────────────────────────────────────────

  private send(text: string): boolean {
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

  private isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.status === 'connected';
  }

  private handlerError(err: unknown): void {
    this.counters.handlerErrors++;
    this.emit('error', asError(err));
  }

  /** Remembers an error; for the socket's own errors the first one wins (the cause, not the echo). */
  private recordError(message: string, fromSocket = false): void {
    if (fromSocket && this.socketError !== null) return;
    if (this.socketError === null) this.socketError = message;
    this.lastError = message;
  }

  private setStatus(status: RelayStatus): void {
    if (this.status === 'stopped' && status !== 'stopped') return;
    this.status = status;
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', this.state());
  }

  private clearTimer(name: TimerName): void {
    const t = this[name];
    if (t) {
      clearTimeout(t); // also clears intervals
      this[name] = null;
    }
  }
}
