/**
 * What the daemon learns about a relay, from its NIP-11 document and from how it behaves, kept in
 * `relays.learned` (jsonb) so a restart sizes requests right before NIP-11 arrives (or when it
 * never does). Pure: parsing, sizing, and what an observation adds.
 */
import { z } from 'zod';

/**
 * Each field is dropped when unreadable: a bad value in the database must not stop ingest. Other
 * keys (NIP-77's `nip77`, kept by backfill) pass through untouched.
 */
const learnedSchema = z.looseObject({
  /** NIP-11 `limitation.max_limit` (advertised). */
  maxLimit: z.number().int().positive().nullable().optional().catch(undefined),
  /** NIP-11 `limitation.max_subscriptions` (advertised). */
  maxSubscriptions: z.number().int().positive().nullable().optional().catch(undefined),
  supportsNip77: z.boolean().optional().catch(undefined),
  /** The page size the relay really serves: it returned no more than this while holding more. */
  pageSize: z.number().int().positive().optional().catch(undefined),
  pageSizeLearnedAt: z.string().optional().catch(undefined),
  /** The largest answer the relay gave a REQ with `limit` (live or backfill): it serves that many. */
  servesAtLeast: z.number().int().positive().optional().catch(undefined),
  /** false: a page came back with events newer than its `until` (not paged backwards until re-checked). */
  respectsUntil: z.boolean().optional().catch(undefined),
  untilCheckedAt: z.string().optional().catch(undefined),
  /** REQ ceiling learned from a CLOSED naming it. */
  reqCeiling: z.number().int().positive().optional().catch(undefined),
  /** A CLOSED `auth-required:` was seen. */
  authRequired: z.boolean().optional().catch(undefined),
  /** CLOSED `rate-limited:` replies: how many, and the last one. */
  rateLimited: z.object({ count: z.number().int().nonnegative(), lastAt: z.string() }).optional().catch(undefined),
});

export type LearnedCapabilities = z.infer<typeof learnedSchema>;

export function parseLearned(value: unknown): LearnedCapabilities {
  const parsed = learnedSchema.safeParse(typeof value === 'object' && value !== null ? value : {});
  if (!parsed.success) return {};
  return Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) as LearnedCapabilities;
}

/**
 * How long a limitation learned from behaviour (a smaller page size, ignoring `until`) is trusted
 * before it is tested again: relays get upgraded and reconfigured, and a short page can have had a
 * passing cause. Re-testing costs one ordinary backfill; trusting a stale limit forever costs more
 * round trips, or holes never repaired.
 */
export const RECHECK_LEARNED_AFTER_MS = 7 * 24 * 3600 * 1000;

/** Learned at `at` (ISO) and not yet due for a re-check. Undated or unreadable: kept (cautious). */
function stillTrusted(at: string | undefined, now: number): boolean {
  const t = at === undefined ? Number.NaN : Date.parse(at);
  return Number.isNaN(t) || now - t < RECHECK_LEARNED_AFTER_MS;
}

/** The page size the relay was seen serving, or null when unknown or due for a re-check. */
export function learnedPageSize(learned: LearnedCapabilities, now = Date.now()): number | null {
  return learned.pageSize !== undefined && stillTrusted(learned.pageSizeLearnedAt, now) ? learned.pageSize : null;
}

/** The relay was seen ignoring `until`, recently enough that it is not paged backwards. */
export function ignoresUntil(learned: LearnedCapabilities, now = Date.now()): boolean {
  return learned.respectsUntil === false && stillTrusted(learned.untilCheckedAt, now);
}

/**
 * The smallest page size the relay is known to cut answers at, a learned one however old: what
 * decides whether a page may have been cut (a full page), where guessing too small only costs a
 * check and guessing too large loses events.
 */
export function smallestKnownPageSize(requested: number, learned: LearnedCapabilities): number {
  return Math.max(1, Math.min(requested, learned.maxLimit ?? Infinity, learned.pageSize ?? Infinity));
}

/** The page size to ask: the caller's, no larger than the advertised or the observed limit. */
export function pageLimitFor(requested: number, learned: LearnedCapabilities, now = Date.now()): number {
  return Math.max(1, Math.min(requested, learned.maxLimit ?? Infinity, learnedPageSize(learned, now) ?? Infinity));
}

/** The REQ ceiling to start with, or null for the connection's default. */
export function reqCeilingFor(learned: LearnedCapabilities): number | null {
  const ceiling = Math.min(learned.reqCeiling ?? Infinity, learned.maxSubscriptions ?? Infinity);
  return Number.isFinite(ceiling) ? ceiling : null;
}

/**
 * The relay's real page size from one backward paging over a range, or null without evidence: its
 * largest page was smaller than asked although the range held more events than that page.
 */
export function observedPageSize(asked: number, largestPage: number, eventsInRange: number): number | null {
  return largestPage > 0 && largestPage < asked && eventsInRange > largestPage ? largestPage : null;
}

/** What the connection's counters add to what was known (null: nothing new). */
export function connectionLearning(
  learned: LearnedCapabilities,
  observed: { reqCeiling: number | null; authRequired: boolean; rateLimitedSince: number; lastRateLimitedAt: number | null },
): Partial<LearnedCapabilities> | null {
  const patch: Partial<LearnedCapabilities> = {};
  if (observed.reqCeiling !== null && observed.reqCeiling !== learned.reqCeiling) patch.reqCeiling = observed.reqCeiling;
  if (observed.authRequired && learned.authRequired !== true) patch.authRequired = true;
  if (observed.rateLimitedSince > 0) {
    patch.rateLimited = {
      count: (learned.rateLimited?.count ?? 0) + observed.rateLimitedSince,
      lastAt: new Date(observed.lastRateLimitedAt ?? Date.now()).toISOString(),
    };
  }
  return Object.keys(patch).length > 0 ? patch : null;
}
