/**
 * One relay, one WebSocket: our own thin NIP-01 client over `ws`, built for a long-running ingest
 * daemon rather than an app. What it adds over a library relay class:
 *
 * - Flow control: the socket is paused (ws pause/resume, i.e. TCP backpressure to the relay) while
 *   too many onEvent promises are pending, so a slow database bounds memory instead of growing it.
 * - Hostile input: every frame is size-checked before decoding and parsing, every malformed frame
 *   is counted by reason, and nothing a relay sends can throw out of the message handler.
 * - Subscriptions that survive reconnects, re-sent with freshly evaluated filters (moving `since`
 *   to the caller's cursor), a REQ ceiling with a queue, per-subscription rate-limit backoff, and
 *   NIP-42 AUTH when a signer is configured.
 * - Reconnects paced by exponential backoff with jitter and a circuit breaker; keepalive pings.
 *
 * Events are handed over unverified: the pipeline does shape check, dedupe and verification.
 * All times in the state are milliseconds from the injected clock (`now`, default Date.now).
 */
import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { Filter } from 'nostr-tools/filter';
import type { Logger } from '../log.js';
import {
  FRAME_INVALID_REASONS,
  isValidSubscriptionId,
  parseRelayFrame,
  peekEventFrame,
  serializeAuth,
  serializeClose,
  serializeNegClose,
  serializeNegMsg,
  serializeNegOpen,
  serializeReq,
  type RelayFrame,
} from '../nostr/relay-frames.js';
import type { NostrEvent } from '../nostr/types.js';
import {
  backoffOptions,
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
  type CircuitStatus,
} from './backoff.js';

export type RelayStatus = 'idle' | 'connecting' | 'connected' | 'backoff' | 'open_circuit' | 'stopped';

/** Every reason a frame is dropped: the parser's reasons plus the connection's own. */
export const RELAY_REJECT_REASONS = [
  ...FRAME_INVALID_REASONS,
  /** Binary WebSocket frames (NIP-01 is text only). */
  'binary_frame',
  /** EVENT/EOSE for a subscription id we never opened. */
  'unknown_subscription',
  /** EVENT for a subscription we closed recently (a normal race, counted apart from hostility). */
  'late_event',
  /** A well-formed NEG-MSG whose negentropy message cannot be decoded (NIP-77). */
  'bad_neg_payload',
] as const;

export type RelayRejectReason = (typeof RELAY_REJECT_REASONS)[number];

export type SubscriptionStatus =
  /** Waiting for a connection or a free slot under the REQ ceiling. */
  | 'queued'
  /** REQ sent, stored events flowing, no EOSE yet. */
  | 'sent'
  /** EOSE received; live events flowing. */
  | 'live'
  /** Closed by the relay with `auth-required:`; re-sent once authenticated. */
  | 'auth_parked'
  /** Closed by the relay with `rate-limited:`; re-sent after a growing delay. */
  | 'rate_limited'
  /** Closed by the relay for another reason (reported to onClosed); the caller decides. */
  | 'closed';

export interface SubscriptionSpec {
  /** Re-evaluated on every (re)send, so the caller can move `since` to its cursor. */
  filters: () => Filter[];
  /**
   * Called in arrival order with the raw event and its frame's byte size. A returned promise counts
   * as in flight until it settles (automatic backpressure).
   */
  onEvent(event: unknown, bytes: number): void | Promise<void>;
  /**
   * With the connection's `takeKnownCopies`: offered every EVENT frame first, peeked but not parsed
   * (id and created_at read from the bytes; `frame` is valid only during the call). Returns true
   * when it took the frame as a copy of an event already seen; false sends it down the full parse to
   * onEvent.
   */
  onKnownEvent?(id: string, createdAt: number | null, frame: Buffer): boolean;
  /** Called once every onEvent promise of this subscription received before the EOSE has settled. */
  onEose(): void;
  /** The relay closed the subscription and it will not be re-sent automatically. */
  onClosed(reason: string, prefix: string | null): void;
}

/** One NIP-77 negentropy session (NEG-OPEN … NEG-CLOSE); the caller owns the negentropy state. */
export interface NegentropySessionSpec {
  /**
   * A NEG-MSG payload (hex). Throwing means the message cannot be decoded: it is counted as
   * `bad_neg_payload`, NEG-CLOSE is sent and onError is called.
   */
  onMessage(payload: string): void;
  /** The session is over without NEG-CLOSE from us; `reason` is the NEG-ERR text or says what happened. */
  onError(reason: string, cause: NegentropyEndCause): void;
}

export type NegentropyEndCause = 'neg_err' | 'undecodable' | 'disconnected';

export type AuthSigner = (
  challenge: string,
  relayUrl: string,
) => Promise<NostrEvent | null> | NostrEvent | null;

export interface RelayConnectionOptions {
  url: string;
  log: Logger;
  /** Frames larger than this (UTF-8 bytes) are counted as `frame_too_large` without being parsed. */
  maxFrameBytes: number;
  /** Hard cap where ws drops the connection (1009); default max(16 MiB, 4 × maxFrameBytes). */
  maxPayloadBytes?: number;
  backoff?: Partial<BackoffOptions>;
  circuit?: Partial<CircuitOptions>;
  /** Backoff of a subscription closed with `rate-limited:`; default 5 s .. 5 min, full jitter. */
  rateLimitBackoff?: Partial<BackoffOptions>;
  /** Ping interval; default 30 s. */
  keepaliveMs?: number;
  /** No pong (nor any frame) this long after a ping: the peer is dead; default 10 s. */
  pongTimeoutMs?: number;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** A connection counts as good (backoff and circuit reset) at its first EOSE or after this; 30 s. */
  stableAfterMs?: number;
  /** How long stop() waits for the close handshake before cutting the socket; default 2 s. */
  closeTimeoutMs?: number;
  /** NIP-42 signer; returns null when no key is configured. */
  authSigner?: AuthSigner;
  /** REQ ceiling (NIP-11 `limitation.max_subscriptions`); default 20. */
  maxSubscriptions?: number;
  /** Pending onEvent promises that pause the socket; default 1,000. */
  highWaterMark?: number;
  /**
   * Offer EVENT frames to their subscription's onKnownEvent before parsing them, so copies of an
   * event from several relays cost a peek at their bytes, not a parse.
   */
  takeKnownCopies?: boolean;
  /** Pending onEvent promises below which a paused socket resumes; default highWaterMark / 4. */
  lowWaterMark?: number;
  now?: () => number;
  random?: () => number;
}

export interface RelayState {
  url: string;
  status: RelayStatus;
  /** Failed attempts and unplanned disconnects since start. */
  failures: number;
  consecutiveFailures: number;
  circuit: CircuitStatus;
  nextAttemptAt: number | null;
  connectedAt: number | null;
  /** The current connection reached its first EOSE or stayed up stableAfterMs. */
  stable: boolean;
  lastEventAt: number | null;
  lastEoseAt: number | null;
  lastError: string | null;
  lastNotice: string | null;
  authRequired: boolean;
  authenticated: boolean;
  /** Latest retry time of a rate-limited subscription, null when none is waiting. */
  rateLimitedUntil: number | null;
  /** CLOSED `rate-limited:` replies on this connection, and when the last one came. */
  rateLimitedCount: number;
  lastRateLimitedAt: number | null;
  framesReceived: number;
  eventsReceived: number;
  /** Of those, copies of events already verified or being verified, taken without parsing (takeKnownCopies). */
  knownEventsSkipped: number;
  rejects: Record<RelayRejectReason, number>;
  /** Subscriptions known (any status). */
  subscriptions: number;
  /** Subscriptions with a REQ open on the relay. */
  activeSubscriptions: number;
  queuedSubscriptions: number;
  maxSubscriptions: number;
  /** The REQ ceiling learned from a CLOSED naming it, null until one does. */
  learnedMaxSubscriptions: number | null;
  paused: boolean;
  /** onEvent promises not yet settled. */
  inFlight: number;
  /** onEvent / onEose / filters() calls that threw or rejected. */
  handlerErrors: number;
}

export interface RelayConnectionEvents {
  status: [state: RelayState];
  notice: [message: string];
  error: [error: Error];
  /** Frames no subscription consumes: COUNT, OK for other events. */
  message: [frame: RelayFrame];
}

interface Sub {
  id: string;
  spec: SubscriptionSpec;
  status: SubscriptionStatus;
  /** Bumped on every REQ sent, so a deferred onEose of a replaced REQ is dropped. */
  generation: number;
  pending: Set<Promise<unknown>>;
  rateBackoff: BackoffState;
  retryTimer: NodeJS.Timeout | null;
  rateLimitedUntil: number | null;
  /** The CLOSED that parked it (auth-required), reported if auth cannot happen. */
  parked: { reason: string; prefix: string | null } | null;
}

const ACTIVE: ReadonlySet<SubscriptionStatus> = new Set(['sent', 'live']);
const RECENTLY_CLOSED_CAPACITY = 256;
const MAX_AUTH_ATTEMPTS = 3;
// Relays word their REQ ceiling differently ("too many concurrent REQs", "max subscriptions ...").
const SUBSCRIPTION_LIMIT =
  /too many (concurrent |open |active )?(subscriptions|subs|reqs|requests)|max(imum)?[ _-]?(number of )?(concurrent )?subscriptions|subscription limit/i;

type Listener = (...args: never[]) => void;

/** A small typed emitter whose listeners can never throw into the caller. */
class Emitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners = new Map<keyof E, Set<Listener>>();

  on<K extends keyof E>(event: K, fn: (...args: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as unknown as Listener);
    return () => this.off(event, fn);
  }

  off<K extends keyof E>(event: K, fn: (...args: E[K]) => void): void {
    this.listeners.get(event)?.delete(fn as unknown as Listener);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as unknown as (...a: E[K]) => void)(...args);
      } catch {
        // An observer's bug must not break the connection.
      }
    }
  }
}

export class RelayConnection extends Emitter<RelayConnectionEvents> {
  readonly url: string;
  private readonly log: Logger;
  private readonly opts: {
    maxFrameBytes: number;
    maxPayloadBytes: number;
    keepaliveMs: number;
    pongTimeoutMs: number;
    connectTimeoutMs: number;
    stableAfterMs: number;
    closeTimeoutMs: number;
    highWaterMark: number;
    lowWaterMark: number;
  };
  private readonly backoffOpts: BackoffOptions;
  private readonly circuitOpts: CircuitOptions;
  private readonly rateLimitOpts: BackoffOptions;
  private readonly authSigner: AuthSigner | undefined;
  private readonly takeKnownCopies: boolean;
  private readonly now: () => number;
  private readonly random: () => number;

  private status: RelayStatus = 'idle';
  private ws: WebSocket | null = null;
  /** Identifies the current socket; callbacks of older sockets are ignored. */
  private socketId = 0;
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

  private maxSubscriptions: number;
  private learnedMaxSubscriptions: number | null = null;
  private rateLimitedCount = 0;
  private lastRateLimitedAt: number | null = null;
  private readonly subs = new Map<string, Sub>();
  private readonly recentlyClosed = new Set<string>();
  /** NIP-77 sessions by id (their own namespace on the relay, outside the REQ ceiling). */
  private readonly negSessions = new Map<string, NegentropySessionSpec>();

  private challenge: string | null = null;
  private authInFlight = false;
  /** AUTH events sent on this socket: capped, so a relay cannot make us sign in a loop. */
  private authAttempts = 0;
  private authEventId: string | null = null;
  private authRequired = false;
  private authenticated = false;

  private manualPause = false;
  private pressurePause = false;
  private inFlight = 0;

  private failures = 0;
  private stable = false;
  private nextAttemptAt: number | null = null;
  private connectedAt: number | null = null;
  private lastEventAt: number | null = null;
  private lastEoseAt: number | null = null;
  private lastError: string | null = null;
  private lastNotice: string | null = null;
  private framesReceived = 0;
  private eventsReceived = 0;
  private knownEventsSkipped = 0;
  private handlerErrors = 0;
  private readonly rejects = Object.fromEntries(RELAY_REJECT_REASONS.map((r) => [r, 0])) as Record<
    RelayRejectReason,
    number
  >;

  constructor(options: RelayConnectionOptions) {
    super();
    const url = new URL(options.url); // throws on a malformed URL: a config error, not a retry case
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new TypeError(`relay URL must be ws:// or wss://: ${options.url}`);
    }
    this.url = options.url;
    this.log = options.log.child({ relay: options.url });
    const highWaterMark = options.highWaterMark ?? 1_000;
    this.opts = {
      maxFrameBytes: options.maxFrameBytes,
      maxPayloadBytes: options.maxPayloadBytes ?? Math.max(16 * 1024 * 1024, 4 * options.maxFrameBytes),
      keepaliveMs: options.keepaliveMs ?? 30_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      stableAfterMs: options.stableAfterMs ?? 30_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 2_000,
      highWaterMark,
      lowWaterMark: Math.min(options.lowWaterMark ?? Math.floor(highWaterMark / 4), highWaterMark - 1),
    };
    this.backoffOpts = backoffOptions(options.backoff);
    this.circuitOpts = circuitOptions(options.circuit);
    this.rateLimitOpts = backoffOptions({ minMs: 5_000, maxMs: 5 * 60_000, ...options.rateLimitBackoff });
    this.authSigner = options.authSigner;
    this.takeKnownCopies = options.takeKnownCopies ?? false;
    this.maxSubscriptions = Math.max(1, options.maxSubscriptions ?? 20);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
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
    for (const sub of this.subs.values()) this.clearSubTimer(sub);
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
        for (const sub of this.subs.values()) if (ACTIVE.has(sub.status)) this.send(serializeClose(sub.id));
        ws.close(1000, 'stopping');
      } else {
        ws.terminate();
      }
    });
    return this.stopPromise;
  }

  state(): RelayState {
    let active = 0;
    let queued = 0;
    let rateLimitedUntil: number | null = null;
    for (const sub of this.subs.values()) {
      if (ACTIVE.has(sub.status)) active++;
      else if (sub.status === 'queued') queued++;
      if (sub.rateLimitedUntil !== null) rateLimitedUntil = Math.max(rateLimitedUntil ?? 0, sub.rateLimitedUntil);
    }
    return {
      url: this.url,
      status: this.status,
      failures: this.failures,
      consecutiveFailures: this.circuit.consecutiveFailures,
      circuit: this.circuit.status,
      nextAttemptAt: this.nextAttemptAt,
      connectedAt: this.connectedAt,
      stable: this.stable,
      lastEventAt: this.lastEventAt,
      lastEoseAt: this.lastEoseAt,
      lastError: this.lastError,
      lastNotice: this.lastNotice,
      authRequired: this.authRequired,
      authenticated: this.authenticated,
      rateLimitedUntil,
      rateLimitedCount: this.rateLimitedCount,
      lastRateLimitedAt: this.lastRateLimitedAt,
      framesReceived: this.framesReceived,
      eventsReceived: this.eventsReceived,
      knownEventsSkipped: this.knownEventsSkipped,
      rejects: { ...this.rejects },
      subscriptions: this.subs.size,
      activeSubscriptions: active,
      queuedSubscriptions: queued,
      maxSubscriptions: this.maxSubscriptions,
      learnedMaxSubscriptions: this.learnedMaxSubscriptions,
      paused: this.isPaused(),
      inFlight: this.inFlight,
      handlerErrors: this.handlerErrors,
    };
  }

  // ── subscriptions ───────────────────────────────────────────────────────────────────────────

  /** Opens (or replaces) a subscription; it is sent now if connected and under the REQ ceiling. */
  subscribe(id: string, spec: SubscriptionSpec): void {
    if (!isValidSubscriptionId(id)) throw new RangeError(`subscription id must be 1..64 chars: ${id}`);
    const existing = this.subs.get(id);
    if (existing) {
      existing.spec = spec;
      this.resubscribe(id);
      return;
    }
    this.recentlyClosed.delete(id);
    this.subs.set(id, {
      id,
      spec,
      status: 'queued',
      generation: 0,
      pending: new Set(),
      rateBackoff: initialBackoff(),
      retryTimer: null,
      rateLimitedUntil: null,
      parked: null,
    });
    this.pump();
  }

  /** Forgets a subscription and sends CLOSE if its REQ is open. False when unknown. */
  unsubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    this.subs.delete(id);
    this.clearSubTimer(sub);
    this.rememberClosed(id);
    if (ACTIVE.has(sub.status)) this.send(serializeClose(id));
    this.pump();
    return true;
  }

  /** Re-sends the REQ with freshly evaluated filters (whatever state the subscription is in). */
  resubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    this.clearSubTimer(sub);
    sub.parked = null;
    // An open REQ is replaced in place (NIP-01: same id overwrites), keeping its slot.
    if (ACTIVE.has(sub.status) && this.isOpen()) this.sendReq(sub);
    else {
      sub.status = 'queued';
      this.pump();
    }
    return true;
  }

  subscriptionStatus(id: string): SubscriptionStatus | undefined {
    return this.subs.get(id)?.status;
  }

  /** Sets the REQ ceiling (from NIP-11 or learned); queued subscriptions go out if it rose. */
  setMaxSubscriptions(n: number): void {
    this.maxSubscriptions = Math.max(1, Math.floor(n));
    this.pump();
  }

  /** Sends a raw frame (COUNT, …) if connected. */
  sendRaw(text: string): boolean {
    return this.send(text);
  }

  // ── NIP-77 ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Sends NEG-OPEN and routes the session's NEG-MSG/NEG-ERR to `spec` until closeNegentropy or an
   * error. False when not connected. Sessions do not survive a reconnect (the relay's state is gone).
   */
  openNegentropy(id: string, filter: Filter, initialMessage: string, spec: NegentropySessionSpec): boolean {
    if (!isValidSubscriptionId(id)) throw new RangeError(`subscription id must be 1..64 chars: ${id}`);
    if (!this.isOpen()) return false;
    this.recentlyClosed.delete(id);
    this.negSessions.set(id, spec);
    if (this.send(serializeNegOpen(id, filter, initialMessage))) return true;
    this.negSessions.delete(id);
    return false;
  }

  /** Sends the next NEG-MSG of an open session. */
  sendNegentropy(id: string, message: string): boolean {
    return this.negSessions.has(id) && this.send(serializeNegMsg(id, message));
  }

  /** Ends a session (NEG-CLOSE); late frames for it are then ignored, not counted as hostile. */
  closeNegentropy(id: string): void {
    if (!this.negSessions.delete(id)) return;
    this.rememberClosed(id);
    this.send(serializeNegClose(id));
  }

  private onNegFrame(id: string, type: 'NEG-MSG' | 'NEG-ERR', payload: string): void {
    const spec = this.negSessions.get(id);
    if (!spec) {
      if (!this.recentlyClosed.has(id)) this.reject('unknown_subscription');
      return;
    }
    if (type === 'NEG-ERR') {
      // NIP-77: after NEG-ERR the session is closed on the relay's side.
      this.negSessions.delete(id);
      this.rememberClosed(id);
      return this.safeNegError(spec, payload, 'neg_err');
    }
    try {
      spec.onMessage(payload);
    } catch (err) {
      this.reject('bad_neg_payload');
      this.closeNegentropy(id);
      this.safeNegError(spec, `invalid: undecodable negentropy message: ${errorMessage(err)}`, 'undecodable');
    }
  }

  private safeNegError(spec: NegentropySessionSpec, reason: string, cause: NegentropyEndCause): void {
    try {
      spec.onError(reason, cause);
    } catch (err) {
      this.handlerError(err);
    }
  }

  // ── flow control ────────────────────────────────────────────────────────────────────────────

  pause(): void {
    this.manualPause = true;
    this.applyPause();
  }

  resume(): void {
    this.manualPause = false;
    this.applyPause();
  }

  private isPaused(): boolean {
    return this.manualPause || this.pressurePause;
  }

  private applyPause(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const want = this.isPaused();
    if (want === ws.isPaused) return;
    if (want) {
      ws.pause();
      // A paused socket cannot read the pong; keepalive waits until reading resumes.
      this.clearTimer('pongTimer');
    } else {
      ws.resume();
    }
    this.emitStatus();
  }

  // ── connection ──────────────────────────────────────────────────────────────────────────────

  private connect(): void {
    if (this.status === 'stopped') return;
    this.nextAttemptAt = null;
    this.socketError = null;
    const id = ++this.socketId;
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
      if (id !== this.socketId || ws.readyState !== WebSocket.CONNECTING) return;
      this.recordError(`connect timeout after ${this.opts.connectTimeoutMs} ms`);
      ws.terminate();
    }, this.opts.connectTimeoutMs);
    ws.on('open', () => this.onOpen(id));
    ws.on('message', (data, isBinary) => this.onMessage(id, data, isBinary));
    ws.on('pong', () => {
      if (id === this.socketId) this.clearTimer('pongTimer');
    });
    ws.on('error', (err) => {
      if (id === this.socketId) this.recordError(errorMessage(err), true);
    });
    ws.on('close', (code, reason) => {
      if (id !== this.socketId) return;
      if (!this.socketError && this.status !== 'stopped') {
        this.recordError(`closed by relay: ${code}${reason.length ? ` ${reason.toString('utf8')}` : ''}`);
      }
      this.onDisconnected(id);
    });
  }

  private onOpen(id: number): void {
    if (id !== this.socketId) return;
    this.clearTimer('connectTimer');
    if (this.status === 'stopped') return;
    this.connectedAt = this.now();
    this.stable = false;
    this.challenge = null;
    this.authenticated = false;
    this.authInFlight = false;
    this.authEventId = null;
    this.authAttempts = 0;
    this.log.info('relay connected');
    this.keepaliveTimer = setInterval(() => this.keepalive(id), this.opts.keepaliveMs);
    this.stableTimer = setTimeout(() => this.markStable(), this.opts.stableAfterMs);
    // Every live subscription is re-sent with fresh filters; parked-for-auth ones only if we can sign.
    for (const sub of this.subs.values()) {
      if (ACTIVE.has(sub.status) || (sub.status === 'auth_parked' && this.authSigner)) {
        sub.status = 'queued';
      }
    }
    this.setStatus('connected');
    this.applyPause();
    this.pump();
  }

  private keepalive(id: number): void {
    const ws = this.ws;
    if (id !== this.socketId || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (this.isPaused() || this.pongTimer) return;
    try {
      ws.ping();
    } catch {
      return;
    }
    this.pongTimer = setTimeout(() => {
      this.pongTimer = null;
      if (id !== this.socketId) return;
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
    if (id !== this.socketId) return;
    for (const t of ['connectTimer', 'keepaliveTimer', 'pongTimer', 'stableTimer'] as const) this.clearTimer(t);
    this.ws = null;
    this.connectedAt = null;
    this.stable = false;
    this.challenge = null;
    this.authenticated = false;
    this.authInFlight = false;
    this.authEventId = null;
    for (const sub of this.subs.values()) if (ACTIVE.has(sub.status)) sub.status = 'queued';
    const negSessions = [...this.negSessions.values()];
    this.negSessions.clear();
    for (const spec of negSessions) this.safeNegError(spec, 'error: disconnected', 'disconnected');
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
      // The cool-down has elapsed by the timer: the next attempt is the half-open trial.
      if (this.circuit.status === 'open') this.circuit = { ...this.circuit, status: 'half_open', openUntil: null };
      this.connect();
    }, at - now);
    this.setStatus(this.circuit.status === 'open' ? 'open_circuit' : 'backoff');
  }

  // ── frames ──────────────────────────────────────────────────────────────────────────────────

  private onMessage(id: number, data: RawData, isBinary: boolean): void {
    if (id !== this.socketId) return;
    this.framesReceived++;
    // Any frame proves the peer alive, as a pong would.
    if (this.pongTimer) this.clearTimer('pongTimer');
    try {
      if (isBinary) return this.reject('binary_frame');
      const buf = toBuffer(data);
      // Checked before decoding, so an oversize frame costs neither a UTF-8 decode nor a parse.
      if (buf.length > this.opts.maxFrameBytes) return this.reject('frame_too_large');
      if (this.takeKnownCopies && this.deliverKnown(buf)) return;
      const text = buf.toString('utf8');
      const frame = parseRelayFrame(text, this.opts.maxFrameBytes, buf.length);
      this.handleFrame(frame, buf.length);
    } catch (err) {
      // Only our own bugs can land here; the relay must never be able to crash the process.
      this.handlerErrors++;
      this.emit('error', asError(err));
    }
  }

  /** The duplicate fast path (see takeKnownCopies); false when the frame needs the full parse. */
  private deliverKnown(buf: Buffer): boolean {
    const peek = peekEventFrame(buf);
    if (peek === null) return false;
    const sub = this.subs.get(peek.subscriptionId);
    if (!sub?.spec.onKnownEvent) return false;
    try {
      if (!sub.spec.onKnownEvent(peek.id, peek.createdAt, buf)) return false;
    } catch (err) {
      this.handlerError(err);
      return false;
    }
    this.eventsReceived++;
    this.knownEventsSkipped++;
    this.lastEventAt = this.now();
    return true;
  }

  private handleFrame(frame: RelayFrame, bytes: number): void {
    switch (frame.type) {
      case 'invalid':
        return this.reject(frame.reason);
      case 'EVENT': {
        const sub = this.subs.get(frame.subscriptionId);
        if (!sub) return this.reject(this.recentlyClosed.has(frame.subscriptionId) ? 'late_event' : 'unknown_subscription');
        return this.deliver(sub, frame.event, bytes);
      }
      case 'EOSE': {
        const sub = this.subs.get(frame.subscriptionId);
        if (!sub) {
          if (!this.recentlyClosed.has(frame.subscriptionId)) this.reject('unknown_subscription');
          return;
        }
        return this.onEose(sub);
      }
      case 'CLOSED':
        return this.onClosedFrame(frame.subscriptionId, frame.reason, frame.prefix);
      case 'NOTICE':
        this.lastNotice = frame.message.slice(0, 1_000);
        this.log.debug({ notice: this.lastNotice }, 'relay notice');
        this.emit('notice', frame.message);
        return;
      case 'OK':
        if (frame.eventId === this.authEventId) return this.onAuthOk(frame.accepted, frame.message);
        this.emit('message', frame);
        return;
      case 'AUTH':
        this.challenge = frame.challenge;
        if (this.authSigner && !this.authenticated && this.hasParkedForAuth()) void this.authenticate();
        return;
      case 'NEG-MSG':
      case 'NEG-ERR':
        return this.onNegFrame(frame.subscriptionId, frame.type, frame.payload);
      default:
        // COUNT: for whoever sent the matching request.
        this.emit('message', frame);
    }
  }

  private deliver(sub: Sub, event: unknown, bytes: number): void {
    this.eventsReceived++;
    this.lastEventAt = this.now();
    let result: void | Promise<void>;
    try {
      result = sub.spec.onEvent(event, bytes);
    } catch (err) {
      this.handlerError(err);
      return;
    }
    if (!isThenable(result)) return;
    const p = result;
    this.inFlight++;
    sub.pending.add(p);
    if (!this.pressurePause && this.inFlight >= this.opts.highWaterMark) {
      this.pressurePause = true;
      this.applyPause();
    }
    const settle = () => {
      this.inFlight--;
      sub.pending.delete(p);
      if (this.pressurePause && this.inFlight <= this.opts.lowWaterMark) {
        this.pressurePause = false;
        this.applyPause();
      }
    };
    p.then(settle, (err: unknown) => {
      settle();
      this.handlerError(err);
    });
  }

  private onEose(sub: Sub): void {
    this.lastEoseAt = this.now();
    if (sub.status === 'sent') sub.status = 'live';
    sub.rateBackoff = initialBackoff();
    this.markStable();
    const generation = sub.generation;
    const fire = () => {
      if (this.subs.get(sub.id) !== sub || sub.generation !== generation) return;
      try {
        sub.spec.onEose();
      } catch (err) {
        this.handlerError(err);
      }
    };
    // EOSE reaches the caller only after the events before it were taken (cursor correctness).
    if (sub.pending.size === 0) fire();
    else void Promise.allSettled([...sub.pending]).then(fire);
  }

  private onClosedFrame(id: string, reason: string, prefix: string | null): void {
    const sub = this.subs.get(id);
    // A CLOSED for a subscription we dropped is the relay confirming our CLOSE.
    if (!sub || !ACTIVE.has(sub.status)) return;
    this.log.debug({ subscription: id, reason }, 'relay closed subscription');
    if (prefix !== 'auth-required' && SUBSCRIPTION_LIMIT.test(reason) && this.learnCeiling(sub)) return;
    if (prefix === 'auth-required') {
      this.authRequired = true;
      sub.status = 'auth_parked';
      sub.parked = { reason, prefix };
      this.emitStatus();
      if (!this.authSigner || this.authenticated) {
        // No key, or our key is not enough: park it and tell the caller.
        this.safeOnClosed(sub, reason, prefix);
      } else if (this.challenge && !this.authInFlight) {
        void this.authenticate();
      }
      // else: authentication in flight, or waiting for the relay's challenge.
    } else if (prefix === 'rate-limited') {
      this.rateLimitedCount++;
      this.lastRateLimitedAt = this.now();
      this.scheduleSubRetry(sub);
    } else {
      sub.status = 'closed';
      this.safeOnClosed(sub, reason, prefix);
    }
    this.pump();
  }

  /** A CLOSED that names the REQ ceiling: remember the ceiling and re-queue the subscription. */
  private learnCeiling(sub: Sub): boolean {
    sub.status = 'queued';
    let active = 0;
    for (const s of this.subs.values()) if (ACTIVE.has(s.status)) active++;
    if (active === 0) return false; // nothing to learn from; treat it as the reason it says
    if (active < this.maxSubscriptions) {
      this.log.info({ maxSubscriptions: active }, 'learned relay REQ ceiling');
      this.maxSubscriptions = active;
      this.learnedMaxSubscriptions = active;
      this.emitStatus();
    }
    return true;
  }

  private scheduleSubRetry(sub: Sub): void {
    const next = nextBackoff(sub.rateBackoff, this.rateLimitOpts, this.random);
    sub.rateBackoff = next.state;
    sub.status = 'rate_limited';
    sub.rateLimitedUntil = this.now() + next.delayMs;
    this.clearSubTimer(sub, false);
    sub.retryTimer = setTimeout(() => {
      sub.retryTimer = null;
      sub.rateLimitedUntil = null;
      if (this.subs.get(sub.id) !== sub || sub.status !== 'rate_limited') return;
      sub.status = 'queued';
      this.pump();
    }, next.delayMs);
    this.emitStatus();
  }

  // ── NIP-42 ──────────────────────────────────────────────────────────────────────────────────

  private hasParkedForAuth(): boolean {
    for (const sub of this.subs.values()) if (sub.status === 'auth_parked') return true;
    return false;
  }

  private async authenticate(): Promise<void> {
    const signer = this.authSigner;
    const challenge = this.challenge;
    const id = this.socketId;
    if (!signer || !challenge || this.authInFlight) return;
    if (this.authAttempts >= MAX_AUTH_ATTEMPTS) {
      this.reportParked();
      return;
    }
    this.authAttempts++;
    this.authInFlight = true;
    let event: NostrEvent | null;
    try {
      event = await signer(challenge, this.url);
    } catch (err) {
      if (id === this.socketId) this.authInFlight = false;
      this.recordError(`auth signer failed: ${errorMessage(err)}`);
      this.reportParked();
      return;
    }
    if (id !== this.socketId || !this.isOpen()) return; // the socket changed: its challenge is stale
    if (event === null) {
      this.authInFlight = false;
      this.reportParked();
      return;
    }
    this.authEventId = event.id;
    if (!this.send(serializeAuth(event))) {
      this.authInFlight = false;
      this.authEventId = null;
    }
  }

  private onAuthOk(accepted: boolean, message: string): void {
    this.authInFlight = false;
    this.authEventId = null;
    if (!accepted) {
      this.recordError(`auth rejected: ${message}`);
      this.reportParked();
      this.emitStatus();
      return;
    }
    this.authenticated = true;
    this.log.info('relay authenticated (NIP-42)');
    for (const sub of this.subs.values()) {
      if (sub.status === 'auth_parked') {
        sub.status = 'queued';
        sub.parked = null;
      }
    }
    this.emitStatus();
    this.pump();
  }

  /** Auth cannot happen (no key, signer failed, relay refused): parked subscriptions go to the caller. */
  private reportParked(): void {
    for (const sub of this.subs.values()) {
      if (sub.status === 'auth_parked' && sub.parked) this.safeOnClosed(sub, sub.parked.reason, sub.parked.prefix);
    }
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────

  /** Sends queued subscriptions while the REQ ceiling allows, in subscription order. */
  private pump(): void {
    if (!this.isOpen()) return;
    let active = 0;
    for (const sub of this.subs.values()) if (ACTIVE.has(sub.status)) active++;
    for (const sub of this.subs.values()) {
      if (active >= this.maxSubscriptions) break;
      if (sub.status === 'queued' && this.sendReq(sub)) active++;
    }
  }

  private sendReq(sub: Sub): boolean {
    let filters: Filter[];
    try {
      filters = sub.spec.filters();
    } catch (err) {
      this.handlerError(err);
      sub.status = 'closed';
      this.safeOnClosed(sub, `error: filters() threw: ${errorMessage(err)}`, 'error');
      return false;
    }
    if (!this.send(serializeReq(sub.id, filters))) return false;
    sub.status = 'sent';
    sub.generation++;
    return true;
  }

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

  private reject(reason: RelayRejectReason): void {
    this.rejects[reason]++;
  }

  private rememberClosed(id: string): void {
    this.recentlyClosed.add(id);
    if (this.recentlyClosed.size > RECENTLY_CLOSED_CAPACITY) {
      const oldest = this.recentlyClosed.values().next().value;
      if (oldest !== undefined) this.recentlyClosed.delete(oldest);
    }
  }

  private safeOnClosed(sub: Sub, reason: string, prefix: string | null): void {
    try {
      sub.spec.onClosed(reason, prefix);
    } catch (err) {
      this.handlerError(err);
    }
  }

  private handlerError(err: unknown): void {
    this.handlerErrors++;
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

  private clearTimer(name: 'reconnectTimer' | 'connectTimer' | 'keepaliveTimer' | 'pongTimer' | 'stableTimer'): void {
    const t = this[name];
    if (t) {
      clearTimeout(t); // also clears intervals
      this[name] = null;
    }
  }

  private clearSubTimer(sub: Sub, resetUntil = true): void {
    if (sub.retryTimer) clearTimeout(sub.retryTimer);
    sub.retryTimer = null;
    if (resetUntil) sub.rateLimitedUntil = null;
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function isThenable(value: unknown): value is Promise<void> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
