/**
 * Backfill: pages a relay backwards over [since, until] for one scope, with `until` as the cursor.
 *
 * - The boundary is inclusive: the next page asks `until = oldest created_at seen`, and ids already
 *   seen at that second are not counted again (the pipeline dedupes them anyway).
 * - A short page never proves the end: relays clamp `limit` silently (NIP-11 max_limit). Only an
 *   EOSE on a page with nothing new below the cursor ends a range.
 * - A page made entirely of one created_at, as large as the relay's real page size, may hide more
 *   events at that second. The second is re-asked kind by kind when the filter names several
 *   kinds; if that cannot list it either, the second is recorded as incomplete (reported, never
 *   skipped silently) and paging continues below it, so backfill never stalls.
 * - Each finished page records its range as covered through a pipeline marker, so an interrupted
 *   backfill resumes from what was committed: covered ranges are skipped on the next run.
 * - NIP-77: where the relay supports negentropy, a whole uncovered range is first reconciled
 *   against the events stored locally for the scope's filter, and only the ids the relay has and
 *   we lack are fetched (REQ `{ids}` in page-sized chunks); the range is covered once they are
 *   committed. A range with too many local events for one reconciliation is paged, and its dense
 *   seconds are reconciled instead of split by kind. A relay that refuses (NEG-ERR, NOTICE,
 *   silence) is paged, and the refusal is kept in `relays.learned.nip77` so it is not asked again
 *   before `retryAfterSeconds`.
 * - What the relay shows is remembered in `relays.learned` and used by the next run: the page size
 *   it really serves (pages and id requests are asked no larger), and whether it respects `until`.
 *   A relay that returned events newer than a page's `until` cannot be paged backwards: paging
 *   stops with RelayIgnoresUntilError (nothing of that page is recorded as covered) and later runs
 *   refuse to page it (NIP-77 reconciliation, which needs no `until` paging, is still tried).
 *   Since-windows are no way around it: such a relay answers every window with its newest events,
 *   so old ranges stay holes, reported, rather than being claimed.
 */
import type { Filter } from 'nostr-tools/filter';
import type { AppDatabase, Queryable } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { mergeRanges, uncovered, type Range } from '../../ranges.js';
import { loadCoverage, loadRelayLearned, mergeRelayLearned, recordCoverage } from '../../store/ingest-state.js';
import { filterCondition, localEventKeys } from '../../store/local-events.js';
import { systemClock, unixSeconds, type Clock } from '../clock.js';
import { ignoresUntil, learnedPageSize, observedPageSize, pageLimitFor, parseLearned, smallestKnownPageSize, type LearnedCapabilities } from '../fleet/capabilities.js';
import type { IngestPipeline } from '../pipeline/pipeline.js';
import type { RelayConnection } from '../relay/connection.js';
import { nip77Knowledge, reconcileWithRelay, shouldTryNegentropy, type Nip77Knowledge } from './negentropy.js';

export interface BackfillTarget {
  connection: RelayConnection;
  relay: string;
  scope: string;
  filter: Filter;
}

export interface BackfillOptions {
  db: AppDatabase;
  pipeline: IngestPipeline;
  log: Logger;
  since: number;
  until: number;
  /** Events asked per page at most (default 500); smaller when the relay is known to serve less. */
  pageLimit?: number;
  /** Per-page wait for EOSE. */
  pageTimeoutMs?: number;
  onProgress?: (progress: BackfillProgress) => void;
  signal?: AbortSignal;
  /** NIP-77 reconciliation where the relay supports it (default on); false pages only. */
  negentropy?: false | Partial<NegentropyLimits>;
  /** Checked inside each coverage write; false skips it (the daemon's relay ownership). */
  fence?: (tx: Queryable) => Promise<boolean>;
  /** The ingest clock (milliseconds): when what is learned was learned. */
  now?: Clock;
}

export interface NegentropyLimits {
  /** Stored events one reconciliation may hold; a range with more is paged (its dense seconds are still reconciled). */
  maxLocalIds: number;
  /** Missing ids one reconciliation may collect (memory bound); beyond, the range is paged. */
  maxMissing: number;
  /** Wait for each relay answer. */
  timeoutMs: number;
  /** A relay that refused NIP-77 is asked again after this many seconds. */
  retryAfterSeconds: number;
}

const NEGENTROPY_DEFAULTS: NegentropyLimits = { maxLocalIds: 100_000, maxMissing: 100_000, timeoutMs: 15_000, retryAfterSeconds: 86_400 };

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

export interface BackfillProgress {
  relay: string;
  scope: string;
  /** The cursor: everything in (cursor, until] has been received. */
  cursor: number;
  since: number;
  until: number;
  pages: number;
  events: number;
}

export interface BackfillResult extends BackfillProgress {
  /** Seconds whose events exceed what the relay lists per page (see the module comment). */
  incompleteSeconds: number[];
  /** The largest page the relay returned: its real limit, if it clamps. */
  observedPageSize: number;
  negentropy: NegentropyReport;
  /** Events asked per page: the caller's limit, lowered by what is known of the relay. */
  pageLimit: number;
  /** What this run learned about the relay (also stored in relays.learned). */
  learned: Partial<LearnedCapabilities>;
}

/** The relay answered a page with events newer than its `until`: it cannot be paged backwards. */
export class RelayIgnoresUntilError extends Error {
  override name = 'RelayIgnoresUntilError';
  /** When that was found (ISO), if before this run. */
  readonly checkedAt: string | undefined;
  constructor(relay: string, since?: string) {
    super(`${relay} ignores "until" (${since ? `seen ${since}` : 'a page held events newer than it'}): it cannot be paged backwards, so backfill from it is refused`);
    this.checkedAt = since;
  }
}

/** What one paging over a range showed, besides its events. */
interface RangeResult {
  incompleteSeconds: number[];
  /** Events the relay returned for this range, and its largest page (page-size evidence). */
  eventsInRange: number;
  largestPage: number;
  /** A page asked below events the relay had already shown came back without them. */
  untilHonoured: boolean;
}

/** NIP-77 state of one backfill run. */
interface Negentropy {
  /** Still worth trying with this relay in this run. */
  usable: boolean;
  limits: NegentropyLimits;
  /** Support already recorded in this run. */
  recorded: boolean;
  /** The relay has reconciled with us (stored from an earlier run, or in this one). */
  provenBefore: boolean;
  report: NegentropyReport;
}

interface Page {
  events: Array<{ id: string; created_at: number; kind: number }>;
}

let requestCounter = 0;
const requestId = (prefix: string) => `${prefix}-${process.pid}-${++requestCounter}`;

/** Asks one page and hands every event to the pipeline; resolves at EOSE. */
function fetchPage(target: BackfillTarget, pipeline: IngestPipeline, filter: Filter, timeoutMs: number): Promise<Page> {
  const id = requestId('backfill');
  return new Promise<Page>((resolve, reject) => {
    const events: Page['events'] = [];
    const timer = setTimeout(() => {
      target.connection.unsubscribe(id);
      reject(new Error(`no EOSE from ${target.relay} within ${timeoutMs} ms`));
    }, timeoutMs);
    target.connection.subscribe(id, {
      filters: () => [filter],
      onEvent: (event, bytes) => {
        const e = event as { id?: unknown; created_at?: unknown; kind?: unknown };
        if (typeof e?.id === 'string' && typeof e.created_at === 'number' && typeof e.kind === 'number') {
          events.push({ id: e.id, created_at: e.created_at, kind: e.kind });
        }
        return pipeline.submit({ value: event, bytes, relay: target.relay });
      },
      onEose: () => {
        clearTimeout(timer);
        target.connection.unsubscribe(id);
        // Checked here so no caller can record coverage from such a page.
        if (filter.until !== undefined && events.some((e) => e.created_at > filter.until!)) reject(new RelayIgnoresUntilError(target.relay));
        else resolve({ events });
      },
      onClosed: (reason) => {
        clearTimeout(timer);
        reject(new Error(`${target.relay} closed the backfill request: ${reason}`));
      },
    });
  });
}

/** Backfills every part of [since, until] not yet covered for (relay, scope). */
export async function backfill(target: BackfillTarget, options: BackfillOptions): Promise<BackfillResult> {
  const known = parseLearned((await loadRelayLearned(options.db, target.relay))?.learned);
  const existing = mergeRanges(await loadCoverage(options.db, { relay: target.relay, scope: target.scope }));
  const gaps = uncovered(existing, { since: options.since, until: options.until }).reverse(); // newest first
  const total: BackfillResult = {
    relay: target.relay,
    scope: target.scope,
    cursor: options.until,
    since: options.since,
    until: options.until,
    pages: 0,
    events: 0,
    incompleteSeconds: [],
    observedPageSize: 0,
    negentropy: { reconciled: 0, missing: 0, requests: 0, fallback: null },
    pageLimit: pageLimitFor(options.pageLimit ?? 500, known, (options.now ?? systemClock)()),
    learned: {},
  };
  // A stored page size due for a re-check is not asked (pages of the full size test it), but it
  // still decides which pages may have been cut short.
  const fullPageAt = smallestKnownPageSize(total.pageLimit, known);
  const learn = async (patch: Partial<LearnedCapabilities>) => {
    Object.assign(total.learned, patch);
    await mergeRelayLearned(options.db, target.relay, patch);
  };
  try {
    const negentropy = gaps.length > 0 ? await negentropyFor(target, options, total.negentropy) : null;
    for (const gap of gaps) {
      if (negentropy?.usable && (await reconcileRange(target, options, gap, total, negentropy))) {
        cover(target, options, gap);
        total.cursor = gap.since;
        options.onProgress?.({ ...total });
        continue;
      }
      if (ignoresUntil(known, (options.now ?? systemClock)())) throw new RelayIgnoresUntilError(target.relay, known.untilCheckedAt);
      const part = await backfillRange(target, { ...options, since: gap.since, until: gap.until }, total, negentropy, fullPageAt);
      total.incompleteSeconds.push(...part.incompleteSeconds);
      const pageSize = observedPageSize(total.pageLimit, part.largestPage, part.eventsInRange);
      // Also stored again when the same size was due for a re-check: trusted for another period.
      if (pageSize !== null && pageSize !== (total.learned.pageSize ?? learnedPageSize(known, (options.now ?? systemClock)()))) {
        options.log.info({ relay: target.relay, pageSize, asked: total.pageLimit }, 'learned the page size the relay serves');
        await learn({ pageSize, pageSizeLearnedAt: new Date((options.now ?? systemClock)()).toISOString() });
      }
      if (part.untilHonoured && known.respectsUntil !== true && total.learned.respectsUntil !== true) {
        await learn({ respectsUntil: true, untilCheckedAt: new Date((options.now ?? systemClock)()).toISOString() });
      }
    }
  } catch (error) {
    if (error instanceof RelayIgnoresUntilError && !ignoresUntil(known, (options.now ?? systemClock)())) {
      options.log.warn({ relay: target.relay, scope: target.scope }, 'relay ignores "until": paging it stopped and refused from now on');
      await learn({ respectsUntil: false, untilCheckedAt: new Date((options.now ?? systemClock)()).toISOString() });
    }
    throw error;
  } finally {
    await options.pipeline.flush();
  }
  return total;
}

/** Records a range as covered once everything submitted before it is committed. */
function cover(target: BackfillTarget, options: BackfillOptions, range: Range): void {
  if (range.until < range.since) return;
  options.pipeline
    .mark(async (tx) => {
      if (options.fence && !(await options.fence(tx))) return;
      await recordCoverage(tx, target.relay, target.scope, range);
    }, target.relay)
    .catch((error: unknown) => options.log.error({ err: error, ...range }, 'backfill coverage not recorded'));
}

async function backfillRange(
  target: BackfillTarget,
  options: BackfillOptions,
  total: BackfillResult,
  negentropy: Negentropy | null,
  /** A page this large may have been cut short by the relay (see smallestKnownPageSize). */
  fullPageAt: number,
): Promise<RangeResult> {
  const limit = total.pageLimit;
  const timeoutMs = options.pageTimeoutMs ?? 30_000;
  const { since } = options;
  const incompleteSeconds: number[] = [];
  const result: RangeResult = { incompleteSeconds, eventsInRange: 0, largestPage: 0, untilHonoured: false };
  let cursor = options.until;
  /** Ids already received at the cursor second (the inclusive boundary). */
  let boundary = new Set<string>();

  while (cursor >= since) {
    if (options.signal?.aborted) throw new Error('backfill aborted');
    const page = await fetchPage(target, options.pipeline, { ...target.filter, since, until: cursor, limit }, timeoutMs);
    total.pages++;
    const fresh = page.events.filter((e) => !(e.created_at === cursor && boundary.has(e.id))).length;
    total.events += fresh;
    // The largest page before this one: the relay's page size as far as this run has seen it. (This
    // page itself is no evidence: a lone event at the cursor would count as a "full" page.)
    const seenPageSize = total.observedPageSize;
    total.observedPageSize = Math.max(total.observedPageSize, page.events.length);
    result.largestPage = Math.max(result.largestPage, page.events.length);
    result.eventsInRange += fresh;
    // Every page after the first asks below events already received (fetchPage rejects any page
    // that brings newer ones): this one proves the relay honours `until`.
    if (cursor < options.until) result.untilHonoured = true;
    if (page.events.length === 0) {
      // EOSE with nothing at or below the cursor: [since, cursor] is complete.
      cover(target, options, { since, until: cursor });
      break;
    }
    if (page.events.every((e) => e.created_at === cursor)) {
      // Only the cursor second came back. A page as large as the relay's real page size may hide
      // more events at that second (it returns the same page for every `until` there).
      for (const e of page.events) boundary.add(e.id);
      const full = page.events.length >= Math.min(fullPageAt, seenPageSize > 0 ? seenPageSize : fullPageAt);
      let complete = !full;
      if (full && negentropy?.usable) complete = await reconcileRange(target, options, { since: cursor, until: cursor }, total, negentropy);
      if (!complete && full) complete = await resolveDenseSecond(target, options, cursor, boundary, total, limit, timeoutMs);
      if (complete) cover(target, options, { since: cursor, until: cursor });
      else {
        incompleteSeconds.push(cursor);
        options.log.warn({ relay: target.relay, scope: target.scope, second: cursor }, 'backfill: more events at one second than the relay lists per page');
      }
      cursor -= 1;
      boundary = new Set();
    } else {
      // Newest first: every second above `oldest` is complete; `oldest` itself may continue on the
      // next page (inclusive boundary), whose repeats are recognised by id.
      const oldest = Math.min(...page.events.map((e) => e.created_at));
      cover(target, options, { since: oldest + 1, until: cursor });
      boundary = new Set(page.events.filter((e) => e.created_at === oldest).map((e) => e.id));
      cursor = oldest;
    }
    total.cursor = cursor;
    options.onProgress?.({ ...total, cursor });
  }
  return result;
}

/**
 * Lists a second the relay cannot page through with the scope's filter, by asking it kind by kind.
 * True when every kind's page came back short of the page size (so nothing is hidden).
 */
async function resolveDenseSecond(
  target: BackfillTarget,
  options: BackfillOptions,
  second: number,
  seen: Set<string>,
  total: BackfillResult,
  limit: number,
  timeoutMs: number,
): Promise<boolean> {
  const kinds = target.filter.kinds ?? [];
  if (kinds.length < 2) return false;
  let complete = true;
  for (const kind of kinds) {
    const page = await fetchPage(target, options.pipeline, { ...target.filter, kinds: [kind], since: second, until: second, limit }, timeoutMs);
    total.pages++;
    total.events += page.events.length;
    for (const e of page.events) seen.add(e.id);
    if (page.events.length >= Math.min(limit, Math.max(total.observedPageSize, 1))) complete = false;
  }
  return complete;
}

// ── NIP-77 ──────────────────────────────────────────────────────────────────────────────────────

/** Whether this run may reconcile with the relay: enabled, a filter we can match locally, no recent refusal. */
async function negentropyFor(target: BackfillTarget, options: BackfillOptions, report: NegentropyReport): Promise<Negentropy | null> {
  if (options.negentropy === false) return null;
  const limits = { ...NEGENTROPY_DEFAULTS, ...options.negentropy };
  const state: Negentropy = { usable: false, limits, recorded: false, provenBefore: false, report };
  if (filterCondition(target.filter) === null) {
    report.fallback = 'the scope filter cannot be matched against stored events';
    return state;
  }
  const known = nip77Knowledge((await loadRelayLearned(options.db, target.relay))?.learned);
  state.usable = shouldTryNegentropy(known, unixSeconds(options.now ?? systemClock), limits.retryAfterSeconds);
  state.provenBefore = known?.supported === true;
  if (!state.usable) report.fallback = `relay refused NIP-77: ${known?.error ?? 'unknown reason'}`;
  return state;
}

/**
 * Reconciles one range with the relay and fetches the ids it has that are not stored here. True
 * when every one of them came back (the caller records the range as covered); false means page it.
 */
async function reconcileRange(
  target: BackfillTarget,
  options: BackfillOptions,
  range: Range,
  total: BackfillResult,
  negentropy: Negentropy,
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
  const outcome = await reconcileWithRelay(target.connection, { ...target.filter, since: range.since, until: range.until }, local, {
    id: requestId('neg'),
    timeoutMs: limits.timeoutMs,
    maxNeed: limits.maxMissing,
    ...(options.signal ? { signal: options.signal } : {}),
    provenBefore: negentropy.provenBefore,
  });
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

/** Keeps what this run learned about the relay's NIP-77 support (once per run, or on a refusal). */
async function recordSupport(
  target: BackfillTarget,
  options: BackfillOptions,
  negentropy: Negentropy,
  found: Omit<Nip77Knowledge, 'checkedAt'>,
): Promise<void> {
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
    if (left.length === chunk.length) return false;
    if (left.length > 0) {
      size = chunk.length - left.length;
      queue.unshift(...left);
    }
  }
  return true;
}
