/**
 * The NIP-01 protocol of one client connection, read-only: REQ (stored events newest first, EOSE,
 * then live), CLOSE, COUNT (NIP-45), EVENT refused with `OK false`. Malformed messages get a NOTICE,
 * refused requests a CLOSED with a NIP-01 reason prefix; every refusal is counted by reason.
 * Transport-free: server.ts feeds it messages and gives it a `send`.
 */
import type { Database } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { countForFilters, eventsForFilter, type LiveEvent, type RelayFilter, type StoredFrame } from '../../store/queries/relay-filter.js';
import { effectiveLimit, parseFilter } from './filter.js';
import type { RelayLimits } from '../../nostr/relay-limits.js';
import type { LiveEvents, LiveListener } from './live-events.js';
import type { RelayMetrics } from './metrics.js';
import { Subscription } from './subscription.js';

export interface ConnectionDeps {
  database: Database;
  live: LiveEvents;
  limits: RelayLimits;
  metrics: RelayMetrics;
  log: Logger;
}

/** Newest first, ties lowest id (NIP-01 order across the filters of one REQ). */
function newestFirst(a: StoredFrame, b: StoredFrame): number {
  return b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Several filters' answers: each event once, newest first (a search keeps its rank order). */
function merged(answers: StoredFrame[][], filters: readonly RelayFilter[]): StoredFrame[] {
  const seen = new Set<string>();
  const events = answers.flat().filter((e) => !seen.has(e.id) && seen.add(e.id));
  if (!filters.some((f) => f.search !== undefined)) events.sort(newestFirst);
  return events;
}

export class RelayConnection implements LiveListener {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly stopListening: () => void;
  private closed = false;

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly send: (frame: string) => void,
  ) {
    this.stopListening = deps.live.listen(this);
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopListening();
    for (const s of this.subscriptions.values()) s.close();
    this.deps.metrics.subscriptions.dec({}, this.subscriptions.size);
    this.subscriptions.clear();
  }

  /** One text message from the client. Never throws. */
  async handle(text: string): Promise<void> {
    if (Buffer.byteLength(text) > this.deps.limits.maxMessageBytes) {
      return this.notice('too_large', `invalid: message longer than ${this.deps.limits.maxMessageBytes} bytes`);
    }
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.notice('bad_json', 'invalid: message is not JSON');
    }
    if (!Array.isArray(message) || typeof message[0] !== 'string') {
      return this.notice('bad_message', 'invalid: a message is a JSON array starting with its type');
    }
    try {
      switch (message[0]) {
        case 'REQ':
          return await this.req(message);
        case 'COUNT':
          return await this.count(message);
        case 'CLOSE':
          return this.closeSubscription(message);
        case 'EVENT':
          return this.event(message);
        default:
          return this.notice('unknown_type', `invalid: unknown message type ${JSON.stringify(message[0].slice(0, 20))}`);
      }
    } catch (error) {
      this.deps.log.error({ err: error, type: message[0] }, 'relay message failed');
      const id = typeof message[1] === 'string' ? message[1] : '';
      if (message[0] === 'REQ' || message[0] === 'COUNT') this.closedFrame(id, 'error', 'error: the query failed');
      else this.notice('error', 'error: the message could not be handled');
    }
  }

  private subscriptionId(message: unknown[]): string | null {
    const id = message[1];
    if (typeof id !== 'string' || id.length === 0 || id.length > this.deps.limits.maxSubscriptionIdLength) return null;
    return id;
  }

  /** Checks a REQ's or COUNT's id and filters; on refusal sends CLOSED (or NOTICE without an id). */
  private checked(message: unknown[]): { id: string; filters: RelayFilter[] } | null {
    const id = this.subscriptionId(message);
    if (id === null) {
      this.notice('bad_subscription_id', `invalid: subscription id must be a string of 1 to ${this.deps.limits.maxSubscriptionIdLength} characters`);
      return null;
    }
    const raw = message.slice(2);
    if (raw.length === 0) {
      this.closedFrame(id, 'no_filters', 'invalid: at least one filter is required');
      return null;
    }
    if (raw.length > this.deps.limits.maxFilters) {
      this.closedFrame(id, 'too_many_filters', `invalid: at most ${this.deps.limits.maxFilters} filters per request`);
      return null;
    }
    const filters: RelayFilter[] = [];
    for (const r of raw) {
      const check = parseFilter(r, this.deps.limits);
      if (!check.ok) {
        this.closedFrame(id, check.reason.startsWith('unsupported:') ? 'unindexed_filter' : 'bad_filter', check.reason);
        return null;
      }
      filters.push(check.filter);
    }
    return { id, filters };
  }

  private async req(message: unknown[]): Promise<void> {
    const started = performance.now();
    this.deps.metrics.requests.inc({ type: 'REQ' });
    const request = this.checked(message);
    if (!request) return;
    const replacing = this.subscriptions.get(request.id);
    if (!replacing && this.subscriptions.size >= this.deps.limits.maxSubscriptions) {
      this.closedFrame(request.id, 'too_many_subscriptions', `rate-limited: at most ${this.deps.limits.maxSubscriptions} open subscriptions per connection`);
      return;
    }
    if (replacing) replacing.close();
    else this.deps.metrics.subscriptions.inc();
    // Listening from before the query runs: whatever commits meanwhile is held, not lost.
    const sub = new Subscription(request.id, request.filters);
    sub.stopWatching = this.deps.live.watch(request.filters, (events, at) => this.deliverTo(sub, events, at));
    this.subscriptions.set(request.id, sub);

    const now = Math.floor(Date.now() / 1000);
    let answers: StoredFrame[][];
    try {
      answers = await Promise.all(
        request.filters.map((f) => eventsForFilter(this.deps.database.reads, f, now, effectiveLimit(f, this.deps.limits))),
      );
    } catch (error) {
      // The caller answers CLOSED error:; the subscription must not stay open behind it.
      if (this.subscriptions.get(request.id) === sub) this.drop(sub);
      throw error;
    }
    if (sub.closed || this.closed) return;
    const events = answers.length === 1 ? answers[0]! : merged(answers, request.filters);
    const prefix = sub.framePrefix;
    for (const e of events) {
      sub.markSent(e.id);
      this.send(`${prefix}${e.json}]`);
    }
    this.deps.metrics.eventsSent.inc({ phase: 'stored' }, events.length);
    this.send(JSON.stringify(['EOSE', request.id]));
    this.deps.metrics.reqSeconds.observe({}, (performance.now() - started) / 1000);
    const held = sub.goLive();
    if (held.length > 0) await this.sendLive(sub, held, new Map());
  }

  private async count(message: unknown[]): Promise<void> {
    this.deps.metrics.requests.inc({ type: 'COUNT' });
    const request = this.checked(message);
    if (!request) return;
    const n = await countForFilters(this.deps.database.reads, request.filters, Math.floor(Date.now() / 1000));
    if (!this.closed) this.send(JSON.stringify(['COUNT', request.id, { count: n }]));
  }

  private closeSubscription(message: unknown[]): void {
    const id = this.subscriptionId(message);
    if (id === null) return this.notice('bad_subscription_id', 'invalid: CLOSE needs a subscription id');
    const sub = this.subscriptions.get(id);
    if (sub) this.drop(sub);
  }

  private drop(sub: Subscription): void {
    sub.close();
    this.subscriptions.delete(sub.id);
    this.deps.metrics.subscriptions.dec();
  }

  private event(message: unknown[]): void {
    const event = message[1] as { id?: unknown } | undefined;
    const id = typeof event === 'object' && event !== null && typeof event.id === 'string' ? event.id : '';
    this.deps.metrics.refused.inc({ reason: 'event_read_only' });
    this.send(JSON.stringify(['OK', id, false, 'blocked: read-only cache']));
  }

  /** Committed events that may match `sub` (live-events.ts narrows by index): matched exactly here. */
  private deliverTo(sub: Subscription, events: readonly LiveEvent[], announcedAtMs: ReadonlyMap<string, number>): void {
    if (this.closed || sub.closed) return;
    const now: LiveEvent[] = [];
    for (const e of events) if ((sub.matches(e) || sub.searchesFor(e).length > 0) && sub.offer(e)) now.push(e);
    if (now.length > 0) {
      this.sendLive(sub, now, announcedAtMs).catch((error: unknown) => this.deps.log.error({ err: error }, 'relay live delivery failed'));
    }
  }

  interrupted(reason: string): void {
    // A live subscription that may have missed events must not look complete: close it with a reason.
    for (const sub of [...this.subscriptions.values()]) {
      this.drop(sub);
      this.closedFrame(sub.id, 'live_interrupted', `error: live events interrupted (${reason}); subscribe again`);
    }
  }

  /** Sends live events to a subscription; those matching only through a search are checked first. */
  private async sendLive(sub: Subscription, events: LiveEvent[], announcedAtMs: ReadonlyMap<string, number>): Promise<void> {
    let out = events;
    if (sub.hasSearch) {
      const needSearch = events.filter((e) => !sub.matches(e));
      const allowed = new Set(events.filter((e) => sub.matches(e)).map((e) => e.id));
      const searches = new Set(needSearch.flatMap((e) => sub.searchesFor(e)));
      for (const s of searches) for (const id of await this.deps.live.searchMatches(needSearch.map((e) => e.id), s)) allowed.add(id);
      out = events.filter((e) => allowed.has(e.id));
    }
    if (sub.closed || this.closed) return;
    const prefix = sub.framePrefix;
    const sentAt = Date.now();
    for (const e of out) {
      this.send(`${prefix}${e.json}]`);
      const at = announcedAtMs.get(e.id);
      if (at !== undefined) this.deps.metrics.fanoutSeconds.observe({}, Math.max(0, sentAt - at) / 1000);
    }
    this.deps.metrics.eventsSent.inc({ phase: 'live' }, out.length);
  }

  private closedFrame(id: string, reason: string, message: string): void {
    this.deps.metrics.refused.inc({ reason });
    if (!this.closed) this.send(JSON.stringify(['CLOSED', id, message]));
  }

  private notice(reason: string, message: string): void {
    this.deps.metrics.refused.inc({ reason });
    if (!this.closed) this.send(JSON.stringify(['NOTICE', message]));
  }
}
