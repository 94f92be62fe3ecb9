/**
 * One relay, one WebSocket: our own thin NIP-01 client over `ws`, built for a long-running ingest
 * daemon rather than an app. This file composes its stages, one per file beside it, each owning its
 * state, and is what callers see (subscribe, NIP-77 sessions, pause, state):
 *
 *   socket.ts             the socket lifecycle: connect, keepalive, backoff and circuit, stop
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
import type { Filter } from 'nostr-tools/filter';
import type { Logger } from '../../log.js';
import type { RelayFrame } from '../../nostr/relay-frames.js';
import { systemClock, type Clock } from '../clock.js';
import { asError } from '../errors.js';
import { Nip42Auth } from './auth.js';
import { backoffOptions, circuitOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { FlowControl } from './flow-control.js';
import { FrameCounters, FrameReader } from './frames.js';
import { DEFAULT_MAX_NEG_FRAME_BYTES } from './neg-frame-limit.js';
import { NegentropySessions } from './negentropy-sessions.js';
import { RelaySocket } from './socket.js';
import { SubscriptionTable } from './subscriptions.js';
import type {
  NegentropySessionSpec,
  RelayConnectionEvents,
  RelayConnectionOptions,
  RelayState,
  SubscriptionSpec,
  SubscriptionStatus,
} from './types.js';

export * from './types.js';

export class RelayConnection extends Emitter<RelayConnectionEvents> {
  readonly url: string;
  readonly log: Logger;
  readonly now: Clock;
  readonly random: () => number;
  private readonly socket: RelaySocket;
  private readonly counters = new FrameCounters();
  private readonly subs: SubscriptionTable;
  private readonly auth: Nip42Auth;
  private readonly negentropy: NegentropySessions;
  private readonly flow: FlowControl;
  private readonly frames: FrameReader;

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
    const maxNegFrameBytes = options.maxNegFrameBytes ?? DEFAULT_MAX_NEG_FRAME_BYTES;
    this.socket = new RelaySocket(
      this.url,
      {
        log: this.log,
        now: this.now,
        random: this.random,
        opening: () => {
          this.auth.onOpen();
          this.subs.requeueOnOpen(this.auth.canSign);
        },
        connected: () => {
          this.flow.apply();
          this.subs.pump();
        },
        disconnected: () => {
          this.auth.onDisconnect();
          this.subs.requeueOnDisconnect();
          this.negentropy.onDisconnect();
        },
        closing: () => this.subs.closeAll(),
        message: (data, isBinary) => {
          this.counters.framesReceived++;
          this.frames.read(data, isBinary);
        },
        paused: () => this.flow.paused,
        emitStatus: () => this.emitStatus(),
      },
      {
        maxPayloadBytes: options.maxPayloadBytes ?? Math.max(16 * 1024 * 1024, 4 * options.maxFrameBytes, 2 * maxNegFrameBytes),
        keepaliveMs: options.keepaliveMs ?? 30_000,
        pongTimeoutMs: options.pongTimeoutMs ?? 10_000,
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        stableAfterMs: options.stableAfterMs ?? 30_000,
        closeTimeoutMs: options.closeTimeoutMs ?? 2_000,
        backoff: backoffOptions(options.backoff),
        circuit: circuitOptions(options.circuit),
      },
    );
    const rateLimitOpts = backoffOptions({ minMs: 5_000, maxMs: 5 * 60_000, ...options.rateLimitBackoff });
    this.subs = new SubscriptionTable(
      {
        log: this.log,
        now: this.now,
        random: this.random,
        send: (text) => this.socket.send(text),
        isOpen: () => this.socket.isOpen(),
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
        socketId: () => this.socket.id,
        isOpen: () => this.socket.isOpen(),
        send: (text) => this.socket.send(text),
        recordError: (message) => this.socket.recordError(message),
        emitStatus: () => this.emitStatus(),
      },
      this.subs,
      options.authSigner,
    );
    this.negentropy = new NegentropySessions(
      {
        isOpen: () => this.socket.isOpen(),
        send: (text) => this.socket.send(text),
        reject: (reason) => this.frames.reject(reason),
        handlerError: (err) => this.handlerError(err),
      },
      this.subs.recentlyClosed,
    );
    this.flow = new FlowControl(
      {
        socket: () => this.socket.ws,
        onPaused: () => this.socket.clearPong(),
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
        markStable: () => this.socket.markStable(),
        notice: (message) => this.emit('notice', message),
        unclaimed: (frame: RelayFrame) => this.emit('message', frame),
      },
      { maxFrameBytes: options.maxFrameBytes, maxNegFrameBytes },
      options.takeKnownCopies ?? false,
    );
  }

  // ── lifecycle ───────────────────────────────────────────────────────────────────────────────

  start(): void {
    this.socket.start();
  }

  /** Closes the socket politely (CLOSE per subscription, close frame) and never reconnects. */
  stop(): Promise<void> {
    return this.socket.stop(() => this.subs.clearRetries());
  }

  state(): RelayState {
    const { active, queued, rateLimitedUntil } = this.subs.counts();
    const c = this.counters;
    const s = this.socket.state();
    return {
      url: this.url,
      status: s.status,
      failures: s.failures,
      consecutiveFailures: s.consecutiveFailures,
      circuit: s.circuit,
      nextAttemptAt: s.nextAttemptAt,
      connectedAt: s.connectedAt,
      stable: s.stable,
      lastEventAt: c.lastEventAt,
      lastEoseAt: c.lastEoseAt,
      lastError: s.lastError,
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
    return this.socket.send(text);
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

  private handlerError(err: unknown): void {
    this.counters.handlerErrors++;
    this.emit('error', asError(err));
  }

  private emitStatus(): void {
    this.emit('status', this.state());
  }
}
