/**
 * The shapes a RelayConnection exposes: its options, what a subscription or NIP-77 session is told,
 * and the state it reports (health, persistence). Types only.
 */
import type { Filter } from 'nostr-tools/filter';
import type { Logger } from '../../log.js';
import { FRAME_INVALID_REASONS, type RelayFrame } from '../../nostr/relay-frames.js';
import type { NostrEvent } from '../../nostr/types.js';
import type { Clock } from '../clock.js';
import type { BackoffOptions, CircuitOptions, CircuitStatus } from './backoff.js';

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
  /**
   * NEG-MSG frames for an open NIP-77 session may be this large (neg-frame-limit.ts); default
   * 1,100,000: strfry's 500,000-byte negentropy messages are ~1 MB as hex.
   */
  maxNegFrameBytes?: number;
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
  now?: Clock;
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
