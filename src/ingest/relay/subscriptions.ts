/**
 * The subscriptions of one relay connection, each an object that owns its state (nostr-tools keeps
 * a Subscription class beside its relay the same way). The table keeps the REQ queue under the
 * relay's ceiling (from NIP-11, or learned from a CLOSED that names it), answers CLOSED frames
 * (auth-required parks, rate-limited retries after a growing delay, anything else goes to the
 * caller), and holds EOSE back until the events before it were taken.
 */
import type { Filter } from 'nostr-tools/filter';
import type { Logger } from '../../log.js';
import { isValidSubscriptionId, serializeClose, serializeReq } from '../../nostr/relay-frames.js';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import { initialBackoff, nextBackoff, type BackoffOptions, type BackoffState } from './backoff.js';
import type { SubscriptionSpec, SubscriptionStatus } from './types.js';

/** What the table needs from its connection. */
export interface SubscriptionHost {
  readonly log: Logger;
  readonly now: Clock;
  readonly random: () => number;
  send(text: string): boolean;
  isOpen(): boolean;
  handlerError(err: unknown): void;
  emitStatus(): void;
  /** A subscription was just parked by `auth-required:` (NIP-42 decides what happens next). */
  authRequired(sub: Subscription): void;
}

const ACTIVE: ReadonlySet<SubscriptionStatus> = new Set(['sent', 'live']);
const RECENTLY_CLOSED_CAPACITY = 256;
// Relays word their REQ ceiling differently ("too many concurrent REQs", "max subscriptions ...").
const SUBSCRIPTION_LIMIT =
  /too many (concurrent |open |active )?(subscriptions|subs|reqs|requests)|max(imum)?[ _-]?(number of )?(concurrent )?subscriptions|subscription limit/i;

/** One subscription: its spec, its status, and the events it handed over that are still pending. */
export class Subscription {
  status: SubscriptionStatus = 'queued';
  /** Bumped on every REQ sent, so a deferred onEose of a replaced REQ is dropped. */
  generation = 0;
  readonly pending = new Set<Promise<unknown>>();
  rateBackoff: BackoffState = initialBackoff();
  retryTimer: NodeJS.Timeout | null = null;
  rateLimitedUntil: number | null = null;
  /** The CLOSED that parked it (auth-required), reported if auth cannot happen. */
  parked: { reason: string; prefix: string | null } | null = null;

  constructor(
    readonly id: string,
    public spec: SubscriptionSpec,
  ) {}

  get active(): boolean {
    return ACTIVE.has(this.status);
  }

  clearRetry(resetUntil = true): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (resetUntil) this.rateLimitedUntil = null;
  }
}

/** Ids closed lately (subscriptions and NIP-77 sessions): their late frames are not hostile. */
export class RecentlyClosed {
  private readonly ids = new Set<string>();

  has(id: string): boolean {
    return this.ids.has(id);
  }

  delete(id: string): void {
    this.ids.delete(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > RECENTLY_CLOSED_CAPACITY) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
}

export class SubscriptionTable {
  private readonly subs = new Map<string, Subscription>();
  readonly recentlyClosed = new RecentlyClosed();
  maxSubscriptions: number;
  /** The REQ ceiling learned from a CLOSED naming it, null until one does. */
  learnedMaxSubscriptions: number | null = null;
  rateLimitedCount = 0;
  lastRateLimitedAt: number | null = null;

  constructor(
    private readonly host: SubscriptionHost,
    maxSubscriptions: number,
    private readonly rateLimitOpts: BackoffOptions,
  ) {
    this.maxSubscriptions = Math.max(1, maxSubscriptions);
  }

  get size(): number {
    return this.subs.size;
  }

  get(id: string): Subscription | undefined {
    return this.subs.get(id);
  }

  all(): IterableIterator<Subscription> {
    return this.subs.values();
  }

  counts(): { active: number; queued: number; rateLimitedUntil: number | null } {
    let active = 0;
    let queued = 0;
    let rateLimitedUntil: number | null = null;
    for (const sub of this.subs.values()) {
      if (sub.active) active++;
      else if (sub.status === 'queued') queued++;
      if (sub.rateLimitedUntil !== null) rateLimitedUntil = Math.max(rateLimitedUntil ?? 0, sub.rateLimitedUntil);
    }
    return { active, queued, rateLimitedUntil };
  }

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
    this.subs.set(id, new Subscription(id, spec));
    this.pump();
  }

  /** Forgets a subscription and sends CLOSE if its REQ is open. False when unknown. */
  unsubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    this.subs.delete(id);
    sub.clearRetry();
    this.recentlyClosed.add(id);
    if (sub.active) this.host.send(serializeClose(id));
    this.pump();
    return true;
  }

  /** Re-sends the REQ with freshly evaluated filters (whatever state the subscription is in). */
  resubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    sub.clearRetry();
    sub.parked = null;
    // An open REQ is replaced in place (NIP-01: same id overwrites), keeping its slot.
    if (sub.active && this.host.isOpen()) this.sendReq(sub);
    else {
      sub.status = 'queued';
      this.pump();
    }
    return true;
  }

  /** Sets the REQ ceiling (from NIP-11 or learned); queued subscriptions go out if it rose. */
  setMaxSubscriptions(n: number): void {
    this.maxSubscriptions = Math.max(1, Math.floor(n));
    this.pump();
  }

  /** Sends queued subscriptions while the REQ ceiling allows, in subscription order. */
  pump(): void {
    if (!this.host.isOpen()) return;
    let active = 0;
    for (const sub of this.subs.values()) if (sub.active) active++;
    for (const sub of this.subs.values()) {
      if (active >= this.maxSubscriptions) break;
      if (sub.status === 'queued' && this.sendReq(sub)) active++;
    }
  }

  /** A new socket is open: live subscriptions are re-sent; parked-for-auth ones only if we can sign. */
  requeueOnOpen(canSign: boolean): void {
    for (const sub of this.subs.values()) {
      if (sub.active || (sub.status === 'auth_parked' && canSign)) sub.status = 'queued';
    }
  }

  /** The socket is gone: nothing is open on the relay any more. */
  requeueOnDisconnect(): void {
    for (const sub of this.subs.values()) if (sub.active) sub.status = 'queued';
  }

  /** stop(): CLOSE for each open REQ. */
  closeAll(): void {
    for (const sub of this.subs.values()) if (sub.active) this.host.send(serializeClose(sub.id));
  }

  clearRetries(): void {
    for (const sub of this.subs.values()) sub.clearRetry();
  }

  /** EOSE: the subscription is live; its caller hears of it once the events before it settled. */
  onEose(sub: Subscription, beforeCaller: () => void): void {
    if (sub.status === 'sent') sub.status = 'live';
    sub.rateBackoff = initialBackoff();
    beforeCaller();
    const generation = sub.generation;
    const fire = () => {
      if (this.subs.get(sub.id) !== sub || sub.generation !== generation) return;
      try {
        sub.spec.onEose();
      } catch (err) {
        this.host.handlerError(err);
      }
    };
    // EOSE reaches the caller only after the events before it were taken (cursor correctness).
    if (sub.pending.size === 0) fire();
    else void Promise.allSettled([...sub.pending]).then(fire);
  }

  onClosed(id: string, reason: string, prefix: string | null): void {
    const sub = this.subs.get(id);
    // A CLOSED for a subscription we dropped is the relay confirming our CLOSE.
    if (!sub || !sub.active) return;
    this.host.log.debug({ subscription: id, reason }, 'relay closed subscription');
    if (prefix !== 'auth-required' && SUBSCRIPTION_LIMIT.test(reason) && this.learnCeiling(sub)) return;
    if (prefix === 'auth-required') {
      sub.status = 'auth_parked';
      sub.parked = { reason, prefix };
      this.host.authRequired(sub);
    } else if (prefix === 'rate-limited') {
      this.rateLimitedCount++;
      this.lastRateLimitedAt = this.host.now();
      this.scheduleRetry(sub);
    } else {
      sub.status = 'closed';
      this.reportClosed(sub, reason, prefix);
    }
    this.pump();
  }

  hasParkedForAuth(): boolean {
    for (const sub of this.subs.values()) if (sub.status === 'auth_parked') return true;
    return false;
  }

  /** Authenticated: parked subscriptions queue again (the caller pumps). */
  unparkAll(): void {
    for (const sub of this.subs.values()) {
      if (sub.status === 'auth_parked') {
        sub.status = 'queued';
        sub.parked = null;
      }
    }
  }

  /** Auth cannot happen (no key, signer failed, relay refused): parked subscriptions go to the caller. */
  reportParked(): void {
    for (const sub of this.subs.values()) {
      if (sub.status === 'auth_parked' && sub.parked) this.reportClosed(sub, sub.parked.reason, sub.parked.prefix);
    }
  }

  reportClosed(sub: Subscription, reason: string, prefix: string | null): void {
    try {
      sub.spec.onClosed(reason, prefix);
    } catch (err) {
      this.host.handlerError(err);
    }
  }

  /** A CLOSED that names the REQ ceiling: remember the ceiling and re-queue the subscription. */
  private learnCeiling(sub: Subscription): boolean {
    sub.status = 'queued';
    let active = 0;
    for (const s of this.subs.values()) if (s.active) active++;
    if (active === 0) return false; // nothing to learn from; treat it as the reason it says
    if (active < this.maxSubscriptions) {
      this.host.log.info({ maxSubscriptions: active }, 'learned relay REQ ceiling');
      this.maxSubscriptions = active;
      this.learnedMaxSubscriptions = active;
      this.host.emitStatus();
    }
    return true;
  }

  private scheduleRetry(sub: Subscription): void {
    const next = nextBackoff(sub.rateBackoff, this.rateLimitOpts, this.host.random);
    sub.rateBackoff = next.state;
    sub.status = 'rate_limited';
    sub.rateLimitedUntil = this.host.now() + next.delayMs;
    sub.clearRetry(false);
    sub.retryTimer = setTimeout(() => {
      sub.retryTimer = null;
      sub.rateLimitedUntil = null;
      if (this.subs.get(sub.id) !== sub || sub.status !== 'rate_limited') return;
      sub.status = 'queued';
      this.pump();
    }, next.delayMs);
    this.host.emitStatus();
  }

  private sendReq(sub: Subscription): boolean {
    let filters: Filter[];
    try {
      filters = sub.spec.filters();
    } catch (err) {
      this.host.handlerError(err);
      sub.status = 'closed';
      this.reportClosed(sub, `error: filters() threw: ${errorMessage(err)}`, 'error');
      return false;
    }
    if (!this.host.send(serializeReq(sub.id, filters))) return false;
    sub.status = 'sent';
    sub.generation++;
    return true;
  }
}
