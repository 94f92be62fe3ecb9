/**
 * Frame dispatch: every frame a relay sends, from bytes to the stage that owns it. Hostile input is
 * expected: each frame is size-checked before decoding and parsing, each malformed one is counted
 * by reason, and nothing a relay sends can throw out of here. EVENT frames that are copies of known
 * events can be taken on a peek at their bytes (takeKnownCopies), without a parse.
 */
import type { RawData } from 'ws';
import type { Logger } from '../../log.js';
import { parseRelayFrame, peekEventFrame, type RelayFrame } from '../../nostr/relay-frames.js';
import type { Clock } from '../clock.js';
import type { Nip42Auth } from './auth.js';
import type { FlowControl } from './flow-control.js';
import { frameWithinLimit, type FrameLimits } from './neg-frame-limit.js';
import type { NegentropySessions } from './negentropy-sessions.js';
import type { Subscription, SubscriptionTable } from './subscriptions.js';
import { RELAY_REJECT_REASONS, type RelayRejectReason } from './types.js';

/** What the connection counts about what it received (reported in RelayState). */
export class FrameCounters {
  framesReceived = 0;
  eventsReceived = 0;
  knownEventsSkipped = 0;
  handlerErrors = 0;
  lastEventAt: number | null = null;
  lastEoseAt: number | null = null;
  lastNotice: string | null = null;
  readonly rejects = Object.fromEntries(RELAY_REJECT_REASONS.map((r) => [r, 0])) as Record<RelayRejectReason, number>;
}

export interface FrameHost {
  readonly log: Logger;
  readonly now: Clock;
  readonly counters: FrameCounters;
  readonly subs: SubscriptionTable;
  readonly auth: Nip42Auth;
  readonly negentropy: NegentropySessions;
  readonly flow: FlowControl;
  handlerError(err: unknown): void;
  /** The first EOSE proves the connection good (backoff and circuit reset). */
  markStable(): void;
  notice(message: string): void;
  /** Frames no subscription consumes: COUNT, OK for other events. */
  unclaimed(frame: RelayFrame): void;
}

export class FrameReader {
  constructor(
    private readonly host: FrameHost,
    private readonly limits: FrameLimits,
    private readonly takeKnownCopies: boolean,
  ) {}

  read(data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) return this.reject('binary_frame');
      const buf = toBuffer(data);
      // Checked before decoding, so an oversize frame costs neither a UTF-8 decode nor a parse. A
      // NEG-MSG for one of our open sessions has a larger limit of its own (strfry's ~1 MB).
      if (!frameWithinLimit(buf, this.limits, this.host.negentropy.hasOpenSessions())) return this.reject('frame_too_large');
      if (this.takeKnownCopies && this.deliverKnown(buf)) return;
      const text = buf.toString('utf8');
      const frame = parseRelayFrame(text, Math.max(this.limits.maxFrameBytes, this.limits.maxNegFrameBytes), buf.length);
      this.dispatch(frame, buf.length);
    } catch (err) {
      // Only our own bugs can land here; the relay must never be able to crash the process.
      this.host.handlerError(err);
    }
  }

  reject(reason: RelayRejectReason): void {
    this.host.counters.rejects[reason]++;
  }

  /** The duplicate fast path (see takeKnownCopies); false when the frame needs the full parse. */
  private deliverKnown(buf: Buffer): boolean {
    const peek = peekEventFrame(buf);
    if (peek === null) return false;
    const sub = this.host.subs.get(peek.subscriptionId);
    if (!sub?.spec.onKnownEvent) return false;
    try {
      if (!sub.spec.onKnownEvent(peek.id, peek.createdAt, buf)) return false;
    } catch (err) {
      this.host.handlerError(err);
      return false;
    }
    const counters = this.host.counters;
    counters.eventsReceived++;
    counters.knownEventsSkipped++;
    counters.lastEventAt = this.host.now();
    return true;
  }

  private dispatch(frame: RelayFrame, bytes: number): void {
    const { subs, auth, negentropy } = this.host;
    switch (frame.type) {
      case 'invalid':
        return this.reject(frame.reason);
      case 'EVENT': {
        const sub = subs.get(frame.subscriptionId);
        if (!sub) return this.reject(subs.recentlyClosed.has(frame.subscriptionId) ? 'late_event' : 'unknown_subscription');
        return this.deliver(sub, frame.event, bytes);
      }
      case 'EOSE': {
        const sub = subs.get(frame.subscriptionId);
        if (!sub) {
          if (!subs.recentlyClosed.has(frame.subscriptionId)) this.reject('unknown_subscription');
          return;
        }
        this.host.counters.lastEoseAt = this.host.now();
        return subs.onEose(sub, () => this.host.markStable());
      }
      case 'CLOSED':
        return subs.onClosed(frame.subscriptionId, frame.reason, frame.prefix);
      case 'NOTICE':
        this.host.counters.lastNotice = frame.message.slice(0, 1_000);
        this.host.log.debug({ notice: this.host.counters.lastNotice }, 'relay notice');
        return this.host.notice(frame.message);
      case 'OK':
        if (auth.answers(frame.eventId)) return auth.onOk(frame.accepted, frame.message);
        return this.host.unclaimed(frame);
      case 'AUTH':
        return auth.onChallenge(frame.challenge);
      case 'NEG-MSG':
      case 'NEG-ERR':
        return negentropy.onFrame(frame.subscriptionId, frame.type, frame.payload);
      default:
        // COUNT: for whoever sent the matching request.
        this.host.unclaimed(frame);
    }
  }

  private deliver(sub: Subscription, event: unknown, bytes: number): void {
    this.host.counters.eventsReceived++;
    this.host.counters.lastEventAt = this.host.now();
    let result: void | Promise<void>;
    try {
      result = sub.spec.onEvent(event, bytes);
    } catch (err) {
      this.host.handlerError(err);
      return;
    }
    if (isThenable(result)) this.host.flow.track(result, sub.pending);
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
