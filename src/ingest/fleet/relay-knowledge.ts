/**
 * What the daemon knows of each relay: its NIP-11 limits, what it learned from the relay's
 * behaviour (relays.learned: REQ ceiling, auth, rate limits, page size, `until`), and the status
 * its owner last stored. Learned values are loaded at start and applied before NIP-11 arrives: the
 * REQ ceiling of each new connection, and the page size of hole repairs.
 */
import type { AppDatabase } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { loadRelays, mergeRelayLearned, saveRelayState } from '../../store/ingest-state.js';
import type { RelayConnection, RelayState } from '../relay/connection.js';
import type { RelayCaps } from '../coverage/answer-cap.js';
import { connectionLearning, parseLearned, reqCeilingFor, type LearnedCapabilities } from './capabilities.js';
import { fetchRelayInformation, limitsOf, type RelayLimits } from './nip11.js';

export class RelayKnowledge {
  /** NIP-11 limits per relay, once fetched. */
  private readonly limits = new Map<string, RelayLimits>();
  private readonly learned = new Map<string, LearnedCapabilities>();
  /** Each relay's status as its owner last stored it. */
  private readonly storedStatus = new Map<string, string>();
  /** Rate-limit replies of each connection already added to `learned`. */
  private readonly rateLimitsCounted = new WeakMap<RelayConnection, number>();

  constructor(
    private readonly db: AppDatabase,
    private readonly log: Logger,
  ) {}

  learnedOf(url: string): LearnedCapabilities {
    return this.learned.get(url) ?? {};
  }

  storedStatusOf(url: string): string | undefined {
    return this.storedStatus.get(url);
  }

  /** Adds what a backfill or repair learned (it stored it itself). */
  merge(url: string, patch: Partial<LearnedCapabilities>): void {
    this.learned.set(url, { ...this.learned.get(url), ...patch });
  }

  /** Events asked per page of a repair: NIP-11 max_limit, else 500. */
  pageLimit(url: string): number {
    return this.limits.get(url)?.maxLimit ?? 500;
  }

  /**
   * What is known of the relay's caps, for judging a live answer (answer-cap.ts): a learned page
   * size however old (a smaller cap only makes the check more cautious), NIP-11 max_limit (fetched
   * or stored), and the largest answer it gave a REQ with `limit`. Nothing about a REQ without
   * `limit`: the daemon sends none.
   */
  caps(url: string): RelayCaps {
    const learned = this.learnedOf(url);
    return {
      learnedPageSize: learned.pageSize ?? null,
      maxLimit: this.limits.get(url)?.maxLimit ?? learned.maxLimit ?? null,
      largestLimitedAnswer: learned.servesAtLeast ?? null,
    };
  }

  /** A REQ with `limit` was answered with `count` events: the relay serves at least that many. */
  noteServed(url: string, count: number): void {
    const learned = this.learnedOf(url);
    if (count <= (learned.servesAtLeast ?? 0)) return;
    this.learned.set(url, { ...learned, servesAtLeast: count });
    mergeRelayLearned(this.db, url, { servesAtLeast: count }).catch((error: unknown) => this.log.warn({ err: error, relay: url }, 'learned values not stored'));
  }

  /** Before NIP-11 (or without it): the REQ ceiling this relay showed before. */
  applyCeiling(url: string, connection: RelayConnection): void {
    const ceiling = reqCeilingFor(this.learnedOf(url));
    if (ceiling !== null) connection.setMaxSubscriptions(ceiling);
  }

  /** NIP-11: store the document, size REQs by its limits (and by what the relay showed). */
  async fetchInformation(url: string, connection: RelayConnection, stillCurrent: () => boolean): Promise<void> {
    const info = await fetchRelayInformation(url);
    const limits = limitsOf(info);
    this.limits.set(url, limits);
    if (!info || !stillCurrent()) return;
    const advertised = { maxLimit: limits.maxLimit, maxSubscriptions: limits.maxSubscriptions, supportsNip77: limits.supportsNip77 };
    const learned = { ...this.learned.get(url), ...advertised };
    this.learned.set(url, learned);
    const ceiling = reqCeilingFor(learned);
    if (ceiling !== null) connection.setMaxSubscriptions(ceiling);
    await saveRelayState(this.db, {
      url,
      status: connection.state().status,
      nip11: info,
      learned: advertised,
      authRequired: limits.authRequired || connection.state().authRequired || learned.authRequired === true,
    });
  }

  /** Remembers what the connection showed (REQ ceiling, auth, rate limits) in relays.learned. */
  learnFromConnection(url: string, connection: RelayConnection, state: RelayState): void {
    const counted = this.rateLimitsCounted.get(connection) ?? 0;
    const learned = this.learnedOf(url);
    const patch = connectionLearning(learned, {
      reqCeiling: state.learnedMaxSubscriptions,
      authRequired: state.authRequired,
      rateLimitedSince: state.rateLimitedCount - counted,
      lastRateLimitedAt: state.lastRateLimitedAt,
    });
    if (!patch) return;
    this.rateLimitsCounted.set(connection, state.rateLimitedCount);
    this.learned.set(url, { ...learned, ...patch });
    this.log.info({ relay: url, learned: patch }, 'learned relay behaviour');
    mergeRelayLearned(this.db, url, patch).catch((error: unknown) => this.log.warn({ err: error, relay: url }, 'learned values not stored'));
  }

  /**
   * Re-reads relays' stored status and learned values. What a connection teaches (REQ ceiling,
   * auth, rate limits) is written only by the relay's owner, so for owned relays the in-memory
   * values stand; the rest (page size, `until`) may come from any backfill.
   */
  async refresh(owns: (url: string) => boolean): Promise<void> {
    for (const row of await loadRelays(this.db)) {
      this.storedStatus.set(row.url, row.status);
      const stored = parseLearned(row.learned);
      const local = this.learned.get(row.url);
      if (local && owns(row.url)) {
        for (const key of ['reqCeiling', 'authRequired', 'rateLimited'] as const) {
          if (local[key] !== undefined) (stored as Record<string, unknown>)[key] = local[key];
        }
      }
      this.learned.set(row.url, stored);
    }
  }

  /** Stores the connection's status for other daemons and for the next start. */
  async persist(url: string, connection: RelayConnection): Promise<void> {
    const s = connection.state();
    await saveRelayState(this.db, {
      url,
      status: s.status,
      failures: s.consecutiveFailures,
      nextAttemptAt: s.nextAttemptAt === null ? null : new Date(s.nextAttemptAt),
      lastConnectedAt: s.connectedAt === null ? null : new Date(s.connectedAt),
      lastEventAt: s.lastEventAt === null ? null : new Date(s.lastEventAt),
      lastError: s.lastError,
      // A fresh connection has not met the relay's auth demand yet: keep what was learned.
      authRequired: s.authRequired || this.learned.get(url)?.authRequired === true,
    });
  }
}
