/**
 * The live subscriptions of the daemon, one per (relay, scope[, batch]), each with its cursor.
 *
 * Cursor rules (DESIGN.md, "Since cursors that cannot lose events"):
 * - A REQ is sent with since = covered_until - overlap (or now - initial lookback when nothing is
 *   covered yet) and an explicit `limit` (the relay's known or learned page size), so whether its
 *   answer may be capped is judged against what was asked (answer-cap.ts): a full answer is.
 * - At its EOSE, what the answer proves of [since, now - margin] is recorded through a pipeline
 *   marker, so it commits in the same transaction as the last event the relay sent before EOSE.
 *   What a possibly capped answer leaves unproven is recorded in that transaction as an explicit
 *   hole, and handed to hole repair at once (onHole).
 * - While the subscription stays live, advance() extends coverage to now - margin, but only from
 *   this subscription's proof (live-extension.ts): never across a hole.
 * - On reconnect the REQ is re-sent with a fresh since, so a disconnect leaves no hole; dedupe
 *   absorbs the overlap.
 */
import type { Filter } from 'nostr-tools/filter';
import type { Logger } from '../../log.js';
import { unixSeconds, type Clock } from '../clock.js';
import type { CoverageBook } from '../coverage/book.js';
import type { Range } from '../../ranges.js';
import { catchUpLimit } from '../coverage/answer-cap.js';
import { judgeEose, noteAnswer, type EoseAnswer } from '../coverage/eose-proof.js';
import { liveExtensionStart } from '../coverage/live-extension.js';
import type { IngestPipeline } from '../pipeline/pipeline.js';
import type { RelayConnection } from '../relay/connection.js';
import type { RelayKnowledge } from './relay-knowledge.js';
import type { Scope } from './relay-set.js';

/** One (relay, scope[, batch]) subscription and its cursor. */
interface ScopeSubscription {
  relay: string;
  scope: string;
  id: string;
  filter: Filter;
  /** since of the REQ last sent. */
  reqSince: number | null;
  /** limit of the REQ last sent (null: none, as a batched scope's). */
  reqLimit: number | null;
  /** What that REQ's stored-events answer held so far (until its EOSE). */
  answer: EoseAnswer;
  /**
   * Where this subscription's EOSE proof starts (the REQ's since, or the second after the oldest
   * event of a possibly capped answer); null until EOSE, or when it proved nothing. advance()
   * extends coverage only from here.
   */
  provenSince: number | null;
  live: boolean;
  /** Unix seconds. */
  liveSince: number | null;
  eoseAt: number | null;
  closedReason: string | null;
  /** Keyed by batched ids/authors rather than time: no coverage cursor. */
  oneShot: boolean;
}

export interface ScopeSubscriptionsOptions {
  pipeline: IngestPipeline;
  log: Logger;
  book: CoverageBook;
  knowledge: RelayKnowledge;
  now: Clock;
  overlapSeconds: number;
  clockMarginSeconds: number;
  initialLookbackSeconds: number;
  /** A possibly capped answer left these parts of (relay, scope) unproven (recorded as holes). */
  onHole?: (relay: string, scope: string, holes: Range[]) => void;
  /** A subscription of (relay, scope) reached EOSE: holes it has may be repaired now. */
  onLive?: (relay: string, scope: string) => void;
}

const SEP = '\u0000';

export class ScopeSubscriptions {
  private readonly subs = new Map<string, ScopeSubscription>();

  constructor(private readonly o: ScopeSubscriptionsOptions) {}

  /** Relays with at least one subscription. */
  relays(scope?: string): Set<string> {
    return new Set([...this.subs.values()].filter((s) => scope === undefined || s.scope === scope).map((s) => s.relay));
  }

  /**
   * Subscribes `name` on `connection`: one REQ, or one per batch of keys (`batches`, for a batched
   * scope). `from` is where a scope with no coverage on this relay starts (a fallback's takeover).
   */
  subscribe(connection: RelayConnection, url: string, name: string, scope: Scope, batches: Array<string[] | null>, from?: number): void {
    batches.forEach((keys, i) => {
      const filter: Filter = { ...(scope.filter as Filter) };
      if (scope.batch && keys) (filter as Record<string, unknown>)[scope.batch.field] = keys;
      const id = scope.batch ? `${name}:${i}` : name;
      const sub: ScopeSubscription = {
        relay: url,
        scope: name,
        id,
        filter,
        reqSince: null,
        reqLimit: null,
        answer: { count: 0, oldest: null },
        provenSince: null,
        live: false,
        liveSince: null,
        eoseAt: null,
        closedReason: null,
        oneShot: Boolean(scope.batch),
      };
      this.subs.set(`${url}${SEP}${id}`, sub);
      connection.subscribe(id, {
        // Batched scopes have no time cursor (their key set changes): each REQ asks the keys'
        // history, bounded by the relay's page size, and stays open for live events.
        filters: () => (scope.batch ? [filter] : [{ ...filter, since: this.sinceFor(sub, from), limit: this.limitFor(sub) }]),
        onEvent: (event, bytes) => {
          if (!sub.live) noteAnswer(sub.answer, (event as { created_at?: unknown } | null)?.created_at, sub.reqSince ?? 0);
          return this.o.pipeline.submit({ value: event, bytes, relay: url });
        },
        onKnownEvent: (eventId, createdAt, frame) => {
          if (!this.o.pipeline.takeCopy(eventId, url, frame)) return false;
          if (!sub.live) noteAnswer(sub.answer, createdAt, sub.reqSince ?? 0);
          return true;
        },
        onEose: () => this.onEose(sub),
        onClosed: (reason) => {
          sub.live = false;
          sub.closedReason = reason;
          this.o.log.warn({ relay: url, scope: name, reason }, 'subscription closed by relay');
        },
      });
    });
  }

  /** Forgets the subscriptions of `scope` on `url` (CLOSE on the connection, if any). */
  unsubscribe(url: string, scope: string, connection: RelayConnection | undefined): void {
    for (const [key, sub] of this.subs) {
      if (sub.relay !== url || sub.scope !== scope) continue;
      connection?.unsubscribe(sub.id);
      this.subs.delete(key);
    }
  }

  /** Forgets every subscription on `url` (its connection is being dropped). */
  forgetRelay(url: string): void {
    for (const [key, sub] of this.subs) if (sub.relay === url) this.subs.delete(key);
  }

  /** Nothing is live on a connection that is down; its REQs are re-sent on reconnect. */
  connectionDown(url: string): void {
    for (const sub of this.subs.values()) if (sub.relay === url) sub.live = false;
  }

  /** Whether every subscription of `scope` on `url` is live; none at all counts for a batched scope. */
  liveOn(url: string, scope: string, batched: boolean): boolean {
    const subs = [...this.subs.values()].filter((s) => s.relay === url && s.scope === scope);
    // A batched scope with no keys yet has nothing to serve: it counts as served.
    if (subs.length === 0) return batched;
    return subs.every((s) => s.live);
  }

  /** Extends the coverage of live subscriptions to now - margin (`now` in unix seconds). */
  advance(now: number, connection: (url: string) => RelayConnection | undefined): void {
    for (const sub of this.subs.values()) {
      const c = connection(sub.relay);
      // A paused socket may hold unread events older than the margin: do not claim past them.
      if (!sub.live || sub.oneShot || !c || c.state().status !== 'connected' || c.state().paused) continue;
      // One advance at a time: while one waits (a slow database, copies still undecided), the next
      // tick would claim no more than it once it commits.
      if (this.o.book.committing(sub.relay, sub.scope)) continue;
      const start = liveExtensionStart(this.o.book.of(sub.relay, sub.scope), sub.provenSince);
      const until = now - this.o.clockMarginSeconds;
      if (start !== null && until > start) void this.o.book.commit(sub.relay, sub.scope, { since: start, until });
    }
  }

  /** since for a (re)sent REQ: the cursor minus the overlap. Remembered for the EOSE range. */
  private sinceFor(sub: ScopeSubscription, from?: number): number {
    const covered = this.o.book.coveredUntil(sub.relay, sub.scope);
    const start = covered ?? from ?? unixSeconds(this.o.now) - this.o.initialLookbackSeconds;
    const since = Math.max(0, start - this.o.overlapSeconds);
    sub.reqSince = since;
    sub.answer = { count: 0, oldest: null };
    sub.provenSince = null;
    sub.live = false;
    return since;
  }

  /** limit for a (re)sent REQ: the relay's known or learned page size. Remembered for the EOSE verdict. */
  private limitFor(sub: ScopeSubscription): number {
    sub.reqLimit = catchUpLimit(this.o.knowledge.caps(sub.relay), this.o.knowledge.pageLimit(sub.relay));
    return sub.reqLimit;
  }

  private onEose(sub: ScopeSubscription): void {
    const now = unixSeconds(this.o.now);
    const until = now - this.o.clockMarginSeconds;
    sub.eoseAt = now;
    sub.live = true;
    sub.liveSince ??= now;
    sub.closedReason = null;
    const since = sub.reqSince;
    if (since === null || sub.oneShot) return;
    const caps = this.o.knowledge.caps(sub.relay);
    const judged = judgeEose({ since, until }, sub.answer, { limit: sub.reqLimit }, caps);
    if (sub.reqLimit !== null) this.o.knowledge.noteServed(sub.relay, sub.answer.count);
    sub.provenSince = judged.provenSince;
    // Only what no covered range proves yet is a hole (the REQ re-reads the overlap).
    const open = judged.hole ? this.o.book.openPartsOf(sub.relay, sub.scope, judged.hole) : [];
    if (judged.verdict.capped) {
      this.o.log.info(
        { relay: sub.relay, scope: sub.scope, events: sub.answer.count, limit: sub.reqLimit, why: judged.verdict.reason, since, holes: open },
        'live answer may have been capped by the relay: older part recorded as a hole and repaired',
      );
    }
    const relay = sub.relay;
    const scope = sub.scope;
    if (judged.proven || open.length > 0) {
      void this.o.book.commit(relay, scope, judged.proven, open).then(() => {
        if (open.length > 0) this.o.onHole?.(relay, scope, open);
      });
    }
    this.o.onLive?.(relay, scope);
  }
}
