/**
 * `nostr-cache audit`: compares the cache with a relay over [since, until] for one scope's filter,
 * and says which events the relay has that the cache lacks, and the reverse. NIP-77 where the
 * relay supports it (only differences cross the wire; the ids it names are then fetched to learn
 * their created_at and check their ids), id paging otherwise or when NIP-77 fails. Read-only: the
 * cache is not changed (`backfill --recheck` fetches what is missing).
 */
import type { Filter } from 'nostr-tools/filter';
import type { Queryable } from '../../db/client.js';
import { loadRelayLearned } from '../../store/ingest-state.js';
import { localEventKeys } from '../../store/local-events.js';
import { catchUpLimit } from '../coverage/answer-cap.js';
import { nip77Knowledge } from '../coverage/negentropy.js';
import { parseLearned } from '../fleet/capabilities.js';
import { fetchRelayInformation, limitsOf } from '../fleet/nip11.js';
import type { RelayConnection } from '../relay/connection.js';
import { diffKeys, type EventKey, type ScopeAudit } from './diff.js';
import { fetchKeysByIds, pageRelayKeys, reconcileRelayKeys } from './relay-keys.js';

export interface AuditTarget {
  connection: RelayConnection;
  relay: string;
  scope: string;
  filter: Filter;
}

export interface AuditOptions {
  db: Queryable;
  since: number;
  until: number;
  /** 'auto': NIP-77 when `nip77` says the relay supports it, else paging. */
  method: 'auto' | 'nip77' | 'paging';
  /** What is known of the relay's NIP-77 support (NIP-11 supported_nips, relays.learned). */
  nip77: boolean | null;
  /** `limit` of each page and of each REQ {ids} chunk. */
  pageSize: number;
  /** Wait for each relay answer. */
  timeoutMs: number;
  /** More cached events than this in the range is refused (the keys are held in memory). */
  maxEvents?: number;
  /** Negentropy messages we send, bytes before hex. */
  frameSizeLimit?: number;
  onProgress?: (p: { phase: 'nip77' | 'paging' | 'fetching'; cursor: number | null; listed: number }) => void;
}

/**
 * What an audit of `relay` goes by: NIP-77 support (NIP-11 lists 77, or it reconciled with us;
 * false when it refused) and the page size (asked, else learned, NIP-11 max_limit, or 500).
 */
export async function auditSettings(db: Queryable, relay: string, limit: number | null): Promise<{ nip77: boolean | null; pageSize: number }> {
  const [info, stored] = await Promise.all([fetchRelayInformation(relay), loadRelayLearned(db, relay)]);
  const limits = limitsOf(info);
  const learned = parseLearned(stored?.learned ?? {});
  const knowledge = nip77Knowledge(stored?.learned);
  const nip77 = limits.supportsNip77 || knowledge?.supported === true ? true : knowledge?.supported === false ? false : null;
  const pageSize = limit ?? catchUpLimit({ learnedPageSize: learned.pageSize ?? null, maxLimit: limits.maxLimit ?? learned.maxLimit ?? null }, 500);
  return { nip77, pageSize };
}

export class AuditTooLargeError extends Error {
  override name = 'AuditTooLargeError';
}

export async function auditScope(target: AuditTarget, options: AuditOptions): Promise<ScopeAudit> {
  const range = { since: options.since, until: options.until };
  const maxEvents = options.maxEvents ?? 2_000_000;
  const local = await localEventKeys(options.db, target.filter, range, maxEvents);
  if (local === 'too_many') throw new AuditTooLargeError(`more than ${maxEvents} cached events for ${target.scope} in the range: audit a shorter one`);
  const cache: EventKey[] = local.map((k) => ({ id: k.id, createdAt: k.createdAt }));
  const base = { relay: target.relay, scope: target.scope, since: range.since, until: range.until, cacheCount: cache.length };

  let fallback: string | null = null;
  const tryNip77 = options.method === 'nip77' || (options.method === 'auto' && options.nip77 === true);
  if (options.method === 'auto' && !tryNip77) fallback = options.nip77 === false ? 'the relay does not support NIP-77' : 'NIP-77 support unknown';
  if (tryNip77) {
    options.onProgress?.({ phase: 'nip77', cursor: null, listed: 0 });
    const outcome = await reconcileRelayKeys(target.connection, { ...target.filter, since: range.since, until: range.until }, cache, {
      timeoutMs: options.timeoutMs,
      ...(options.frameSizeLimit ? { frameSizeLimit: options.frameSizeLimit } : {}),
    });
    if (outcome.kind === 'reconciled') {
      options.onProgress?.({ phase: 'fetching', cursor: null, listed: outcome.need.length });
      const fetched = await fetchKeysByIds(target.connection, outcome.need, { chunk: options.pageSize, timeoutMs: options.timeoutMs });
      const cachedById = new Map(cache.map((k) => [k.id, k]));
      const missingOnRelay = outcome.have.map((id) => cachedById.get(id)!).filter(Boolean);
      // An id named by reconciliation but not served (or not valid) is not counted as missing.
      const missingInCache = fetched.keys.filter((k) => k.createdAt >= range.since && k.createdAt <= range.until);
      const sorted = diffKeys(missingInCache, []);
      return {
        ...base,
        method: 'nip77',
        fallback: null,
        relayCount: cache.length - missingOnRelay.length + missingInCache.length,
        missingInCache: sorted.missingInCache,
        missingOnRelay: diffKeys([], missingOnRelay).missingOnRelay,
        invalid: fetched.invalid,
        incompleteSeconds: [],
      };
    }
    fallback = `NIP-77 failed: ${outcome.reason}`;
  }
  const paged = await pageRelayKeys(target.connection, target.filter, range, {
    pageSize: options.pageSize,
    timeoutMs: options.timeoutMs,
    onPage: (cursor, listed) => options.onProgress?.({ phase: 'paging', cursor, listed }),
  });
  const diff = diffKeys(paged.keys, cache);
  return {
    ...base,
    method: 'paging',
    fallback,
    relayCount: paged.keys.length,
    missingInCache: diff.missingInCache,
    missingOnRelay: diff.missingOnRelay,
    invalid: paged.invalid,
    incompleteSeconds: paged.incompleteSeconds,
  };
}
