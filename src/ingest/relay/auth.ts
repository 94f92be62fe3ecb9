/**
 * NIP-42 for one connection: the relay's challenge, signing it when a subscription is parked by
 * `auth-required:`, and the OK that answers our AUTH. A relay cannot make us sign in a loop: at
 * most MAX_AUTH_ATTEMPTS AUTH events per socket.
 */
import type { Logger } from '../../log.js';
import { serializeAuth } from '../../nostr/relay-frames.js';
import type { NostrEvent } from '../../nostr/types.js';
import { errorMessage } from '../errors.js';
import type { Subscription, SubscriptionTable } from './subscriptions.js';
import type { AuthSigner } from './types.js';

const MAX_AUTH_ATTEMPTS = 3;

export interface AuthHost {
  readonly url: string;
  readonly log: Logger;
  /** Identifies the current socket: an answer for an older one is stale. */
  socketId(): number;
  isOpen(): boolean;
  send(text: string): boolean;
  recordError(message: string): void;
  emitStatus(): void;
}

export class Nip42Auth {
  private challenge: string | null = null;
  private inFlight = false;
  /** AUTH events sent on this socket. */
  private attempts = 0;
  private eventId: string | null = null;
  /** The relay asked for auth (on any socket so far). */
  required = false;
  authenticated = false;

  constructor(
    private readonly host: AuthHost,
    private readonly subs: SubscriptionTable,
    private readonly signer: AuthSigner | undefined,
  ) {}

  get canSign(): boolean {
    return this.signer !== undefined;
  }

  /** A new socket: nothing of the previous one's auth holds. */
  onOpen(): void {
    this.onDisconnect();
    this.attempts = 0;
  }

  onDisconnect(): void {
    this.challenge = null;
    this.authenticated = false;
    this.inFlight = false;
    this.eventId = null;
  }

  onChallenge(challenge: string): void {
    this.challenge = challenge;
    if (this.signer && !this.authenticated && this.subs.hasParkedForAuth()) void this.authenticate();
  }

  /** A subscription was parked by `auth-required:`. */
  onParked(sub: Subscription): void {
    this.required = true;
    this.host.emitStatus();
    if (!this.signer || this.authenticated) {
      // No key, or our key is not enough: park it and tell the caller.
      this.subs.reportClosed(sub, sub.parked!.reason, sub.parked!.prefix);
    } else if (this.challenge && !this.inFlight) {
      void this.authenticate();
    }
    // else: authentication in flight, or waiting for the relay's challenge.
  }

  /** Whether an OK frame answers our AUTH event. */
  answers(eventId: string): boolean {
    return eventId === this.eventId;
  }

  onOk(accepted: boolean, message: string): void {
    this.inFlight = false;
    this.eventId = null;
    if (!accepted) {
      this.host.recordError(`auth rejected: ${message}`);
      this.subs.reportParked();
      this.host.emitStatus();
      return;
    }
    this.authenticated = true;
    this.host.log.info('relay authenticated (NIP-42)');
    this.subs.unparkAll();
    this.host.emitStatus();
    this.subs.pump();
  }

  private async authenticate(): Promise<void> {
    const signer = this.signer;
    const challenge = this.challenge;
    const id = this.host.socketId();
    if (!signer || !challenge || this.inFlight) return;
    if (this.attempts >= MAX_AUTH_ATTEMPTS) {
      this.subs.reportParked();
      return;
    }
    this.attempts++;
    this.inFlight = true;
    let event: NostrEvent | null;
    try {
      event = await signer(challenge, this.host.url);
    } catch (err) {
      if (id === this.host.socketId()) this.inFlight = false;
      this.host.recordError(`auth signer failed: ${errorMessage(err)}`);
      this.subs.reportParked();
      return;
    }
    if (id !== this.host.socketId() || !this.host.isOpen()) return; // the socket changed: its challenge is stale
    if (event === null) {
      this.inFlight = false;
      this.subs.reportParked();
      return;
    }
    this.eventId = event.id;
    if (!this.host.send(serializeAuth(event))) {
      this.inFlight = false;
      this.eventId = null;
    }
  }
}
