/**
 * NIP-77 in backfill: whether a run reconciles with the relay (nip77-plan.ts: NIP-11
 * `supported_nips` first, then what trying found), the reconciliation of one range against the
 * events stored for the scope's filter, and the fetch of the ids the relay has and we lack. A relay
 * of unknown support is probed with a short timeout while paging already runs (probeWhilePaging),
 * so one that never answers NEG-OPEN costs the backfill nothing; its first NEG-MSG stops the paging.
 */
import type { Range } from '../../ranges.js';
import { loadRelayLearned, mergeRelayLearned } from '../../store/ingest-state.js';
import { filterCondition, localEventKeys } from '../../store/local-events.js';
import { systemClock, unixSeconds } from '../clock.js';
import { fetchRelayInformation } from '../fleet/nip11.js';
import type { BackfillOptions, BackfillResult } from './backfill.js';
import { fetchPage, requestId, type BackfillTarget } from './backfill-requests.js';
import { nip77Knowledge, reconcileWithRelay, type Nip77Knowledge } from './negentropy.js';
import { nip77Plan } from './nip77-plan.js';

export interface NegentropyLimits {
  /** Stored events one reconciliation may hold; a range with more is paged (its dense seconds are still reconciled). */
  maxLocalIds: number;
  /** Missing ids one reconciliation may collect (memory bound); beyond, the range is paged. */
  maxMissing: number;
  /** Wait for each relay answer. */
  timeoutMs: number;
  /** Wait for the first answer of a probe (a relay of unknown support); paging runs meanwhile. */
  probeTimeoutMs: number;
  /** A relay that refused NIP-77 is asked again after this many seconds. */
  retryAfterSeconds: number;
}

const NEGENTROPY_DEFAULTS: NegentropyLimits = { maxLocalIds: 100_000, maxMissing: 100_000, timeoutMs: 15_000, probeTimeoutMs: 3_000, retryAfterSeconds: 86_400 };

export interface NegentropyReport {
  /** Ranges (uncovered ranges or dense seconds) completed by reconciliation. */
  reconciled: number;
  /** Ids the relay held there and we did not: the only events fetched for them. */
  missing: number;
  /** REQ `{ids}` requests that fetched them. */
  requests: number;
  /** Why reconciliation was not used or fell back to paging (the last reason), null if it never did. */
  fallback: string | null;
}

/** NIP-77 state of one backfill run. */
export interface Negentropy {
  /** Still worth trying with this relay in this run. */
  usable: boolean;
  /** Support is unknown: the first range is probed while it is paged. */
  probe: boolean;
  limits: NegentropyLimits;
  /** Support already recorded in this run. */
  recorded: boolean;
  /** The relay has reconciled with us (stored from an earlier run, or in this one). */
  provenBefore: boolean;
  report: NegentropyReport;
}

/** `supported_nips` of a NIP-11 document; null when there is no document. */
export function supportedNipsOf(document: unknown): ReadonlyArray<number | string> | null {
  if (document === null || typeof document !== 'object') return null;
  const nips = (document as { supported_nips?: unknown }).supported_nips;
  return Array.isArray(nips) ? nips.filter((n): n is number | string => typeof n === 'number' || typeof n === 'string') : [];
}

/** The relay's NIP-11 `supported_nips`: given, stored, or fetched now; null when it has no document. */
async function supportedNips(target: BackfillTarget, options: BackfillOptions, stored: unknown, timeoutMs: number): Promise<ReadonlyArray<number | string> | null> {
  if (options.supportedNips !== undefined) return options.supportedNips;
  return supportedNipsOf(stored ?? (await fetchRelayInformation(target.relay, timeoutMs)));
}

/** How this run uses NIP-77 with the relay (nip77-plan.ts); null when the caller turned it off. */
export async function negentropyFor(target: BackfillTarget, options: BackfillOptions, report: NegentropyReport): Promise<Negentropy | null> {
  if (options.negentropy === false) return null;
  const limits = { ...NEGENTROPY_DEFAULTS, ...options.negentropy };
  const state: Negentropy = { usable: false, probe: false, limits, recorded: false, provenBefore: false, report };
  if (filterCondition(target.filter) === null) {
    report.fallback = 'the scope filter cannot be matched against stored events';
    return state;
  }
  const stored = await loadRelayLearned(options.db, target.relay);
  const known = nip77Knowledge(stored?.learned);
  const plan = nip77Plan({
    supportedNips: await supportedNips(target, options, stored?.nip11 ?? null, limits.probeTimeoutMs),
    verdict: known,
    now: unixSeconds(options.now ?? systemClock),
    retryAfterSeconds: limits.retryAfterSeconds,
  });
  state.usable = plan.kind !== 'page';
  state.probe = plan.kind === 'probe';
  state.provenBefore = known?.supported === true;
  if (plan.kind === 'page') report.fallback = plan.because === 'refused recently' ? `relay refused NIP-77: ${known?.error ?? 'unknown reason'}` : plan.because;
  return state;
}

export interface ReconcileHooks {
  /** The session is about to open (local keys are loaded): a probe starts paging here. */
  opening?: () => void;
  /** The relay's first NEG-MSG arrived: it supports NIP-77. */
  supported?: () => void;
}

/**
 * Reconciles one range with the relay and fetches the ids it has that are not stored here. True
 * when every one of them came back (the caller records the range as covered); false means page it.
 */
export async function reconcileRange(
  target: BackfillTarget,
  options: BackfillOptions,
  range: Range,
  total: BackfillResult,
  negentropy: Negentropy,
  hooks: ReconcileHooks = {},
): Promise<boolean> {
  const { limits, report } = negentropy;
  const fallBack = (reason: string) => {
    report.fallback = reason;
    options.log.info({ relay: target.relay, scope: target.scope, ...range, reason }, 'backfill: paging instead of NIP-77');
    return false;
  };
  // Events still in the pipeline count as stored: they must not be asked for again.
  await options.pipeline.flush();
  const local = await localEventKeys(options.db, target.filter, range, limits.maxLocalIds);
  if (local === 'too_many') return fallBack(`more than ${limits.maxLocalIds} stored events in the range`);
  hooks.opening?.();
  const outcome = await reconcileWithRelay(target.connection, { ...target.filter, since: range.since, until: range.until }, local, {
    id: requestId('neg'),
    timeoutMs: limits.timeoutMs,
    ...(negentropy.probe ? { firstAnswerTimeoutMs: limits.probeTimeoutMs } : {}),
    ...(hooks.supported ? { onSupported: hooks.supported } : {}),
    maxNeed: limits.maxMissing,
    ...(options.signal ? { signal: options.signal } : {}),
    provenBefore: negentropy.provenBefore,
  });
  negentropy.probe = false;
  if (outcome.kind === 'unsupported') {
    negentropy.usable = false;
    await recordSupport(target, options, negentropy, { supported: false, error: outcome.reason.slice(0, 500) });
  }
  // A relay known to reconcile that answers with a NOTICE: paged for the rest of this run only.
  if (outcome.kind === 'failed' && outcome.reason.startsWith('notice: ')) negentropy.usable = false;
  if (outcome.kind !== 'reconciled') return fallBack(outcome.reason);
  negentropy.provenBefore = true;
  await recordSupport(target, options, negentropy, { supported: true, error: null });
  options.log.debug({ relay: target.relay, scope: target.scope, ...range, local: local.length, missing: outcome.need.length, rounds: outcome.rounds }, 'backfill: reconciled');
  if (!(await fetchIds(target, options, outcome.need, total))) return fallBack('the relay did not return every id it listed');
  report.reconciled++;
  report.missing += outcome.need.length;
  return true;
}

/**
 * The first range of a relay whose NIP-77 support is unknown: NEG-OPEN with a short timeout, and
 * paging of the same range from the moment it is sent. The relay's first NEG-MSG stops the paging
 * (what it fetched is deduped) and the reconciliation completes the range; a refusal or silence
 * leaves the paging to finish it. True when reconciliation completed it (the caller covers it).
 */
export async function probeWhilePaging(
  target: BackfillTarget,
  options: BackfillOptions,
  range: Range,
  total: BackfillResult,
  negentropy: Negentropy,
  page: (signal: AbortSignal) => Promise<void>,
): Promise<boolean> {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let paging: Promise<'paged' | 'stopped'> | null = null;
  let reconciled = false;
  try {
    reconciled = await reconcileRange(target, options, range, total, negentropy, {
      opening: () => {
        paging = page(signal).then(
          () => 'paged' as const,
          (error: unknown) => {
            if (stop.signal.aborted && !options.signal?.aborted) return 'stopped' as const;
            throw error;
          },
        );
        // Awaited only once the reconciliation returns: marked handled now, so a paging failure
        // meanwhile (e.g. a relay that ignores `until`) is not an unhandled rejection; it is still
        // thrown to the caller below.
        paging.catch(() => {});
      },
      supported: () => stop.abort(),
    });
  } catch (error) {
    stop.abort();
    await (paging as Promise<unknown> | null)?.catch(() => {});
    throw error;
  }
  const started = paging as Promise<'paged' | 'stopped'> | null;
  if (reconciled) {
    await started?.catch(() => {});
    return true;
  }
  // Not started (too many stored events to reconcile), or stopped by a relay that then failed:
  // the range is paged in full.
  if (started === null || (await started) === 'stopped') await page(options.signal ?? new AbortController().signal);
  return false;
}

/** Keeps what this run learned about the relay's NIP-77 support (once per run, or on a refusal). */
async function recordSupport(target: BackfillTarget, options: BackfillOptions, negentropy: Negentropy, found: Omit<Nip77Knowledge, 'checkedAt'>): Promise<void> {
  if (found.supported && negentropy.recorded) return;
  negentropy.recorded = true;
  const nip77: Nip77Knowledge = { ...found, checkedAt: unixSeconds(options.now ?? systemClock) };
  if (!found.supported) options.log.warn({ relay: target.relay, reason: found.error }, 'relay does not support NIP-77; backfill pages');
  await mergeRelayLearned(options.db, target.relay, { nip77 }).catch((error: unknown) =>
    options.log.error({ err: error, relay: target.relay }, 'NIP-77 support not recorded'),
  );
}

/**
 * Fetches `ids` with REQ {ids} in page-sized chunks. A chunk answered short teaches the relay's
 * real page size and the rest is asked again; false when a chunk brings none of its ids back.
 */
async function fetchIds(target: BackfillTarget, options: BackfillOptions, ids: readonly string[], total: BackfillResult): Promise<boolean> {
  const timeoutMs = options.pageTimeoutMs ?? 30_000;
  const queue = [...ids];
  let size = total.pageLimit;
  while (queue.length > 0) {
    if (options.signal?.aborted) throw new Error('backfill aborted');
    const chunk = queue.splice(0, size);
    const page = await fetchPage(target, options.pipeline, { ids: chunk, limit: chunk.length }, timeoutMs);
    total.negentropy.requests++;
    const received = new Set(page.events.map((e) => e.id));
    const left = chunk.filter((id) => !received.has(id));
    total.events += chunk.length - left.length;
    if (left.length === 0) continue;
    if (left.length === chunk.length) return false;
    size = chunk.length - left.length;
    queue.unshift(...left);
  }
  return true;
}
