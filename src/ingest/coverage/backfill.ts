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
import type { AppDatabase, Queryable } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { mergeRanges, uncovered, type Range } from '../../ranges.js';
import { storeProof } from '../../store/coverage-proofs.js';
import { loadCoverage, loadRelayLearned, mergeRelayLearned, recordCoverage } from '../../store/ingest-state.js';
import { systemClock, unixSeconds, type Clock } from '../clock.js';
import { ignoresUntil, learnedPageSize, observedPageSize, pageLimitFor, parseLearned, smallestKnownPageSize, type LearnedCapabilities } from '../fleet/capabilities.js';
import type { IngestPipeline } from '../pipeline/pipeline.js';
import { negentropyFor, probeWhilePaging, reconcileRange, type Negentropy, type NegentropyLimits, type NegentropyReport } from './backfill-nip77.js';
import { fetchPage, RelayIgnoresUntilError, type BackfillTarget } from './backfill-requests.js';

export { RelayIgnoresUntilError, type BackfillTarget, type NegentropyLimits, type NegentropyReport };

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
  /**
   * The relay's NIP-11 `supported_nips` as known (null: it has no document); by default the stored
   * document, else it is fetched. It decides NIP-77 before any probe (nip77-plan.ts).
   */
  supportedNips?: ReadonlyArray<number | string> | null;
  /** Ignore coverage: the whole [since, until] is reconciled or paged again (late arrivals). */
  recheck?: boolean;
  /** Checked inside each coverage write; false skips it (the daemon's relay ownership). */
  fence?: (tx: Queryable) => Promise<boolean>;
  /** The ingest clock (milliseconds): when what is learned was learned. */
  now?: Clock;
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

/** What one paging over a range showed, besides its events. */
interface RangeResult {
  incompleteSeconds: number[];
  /** Events the relay returned for this range, and its largest page (page-size evidence). */
  eventsInRange: number;
  largestPage: number;
  /** A page asked below events the relay had already shown came back without them. */
  untilHonoured: boolean;
}

/** Backfills every part of [since, until] not yet covered for (relay, scope) (all of it with `recheck`). */
export async function backfill(target: BackfillTarget, options: BackfillOptions): Promise<BackfillResult> {
  const now = options.now ?? systemClock;
  const known = parseLearned((await loadRelayLearned(options.db, target.relay))?.learned);
  const existing = options.recheck ? [] : mergeRanges(await loadCoverage(options.db, { relay: target.relay, scope: target.scope }));
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
    pageLimit: pageLimitFor(options.pageLimit ?? 500, known, now()),
    learned: {},
  };
  // A stored page size due for a re-check is not asked (pages of the full size test it), but it
  // still decides which pages may have been cut short.
  const fullPageAt = smallestKnownPageSize(total.pageLimit, known);
  const learn = async (patch: Partial<LearnedCapabilities>) => {
    Object.assign(total.learned, patch);
    await mergeRelayLearned(options.db, target.relay, patch);
  };
  let negentropy: Negentropy | null = null;
  const page = async (gap: Range, signal?: AbortSignal) => {
    if (ignoresUntil(known, now())) throw new RelayIgnoresUntilError(target.relay, known.untilCheckedAt);
    const part = await backfillRange(target, { ...options, since: gap.since, until: gap.until, ...(signal ? { signal } : {}) }, total, negentropy, fullPageAt);
    total.incompleteSeconds.push(...part.incompleteSeconds);
    const pageSize = observedPageSize(total.pageLimit, part.largestPage, part.eventsInRange);
    // Also stored again when the same size was due for a re-check: trusted for another period.
    if (pageSize !== null && pageSize !== (total.learned.pageSize ?? learnedPageSize(known, now()))) {
      options.log.info({ relay: target.relay, pageSize, asked: total.pageLimit }, 'learned the page size the relay serves');
      await learn({ pageSize, pageSizeLearnedAt: new Date(now()).toISOString() });
    }
    if (part.untilHonoured && known.respectsUntil !== true && total.learned.respectsUntil !== true) {
      await learn({ respectsUntil: true, untilCheckedAt: new Date(now()).toISOString() });
    }
  };
  try {
    negentropy = gaps.length > 0 ? await negentropyFor(target, options, total.negentropy) : null;
    for (const gap of gaps) {
      let reconciled = false;
      if (negentropy?.usable && negentropy.probe) {
        // The probe pages the gap itself, unless reconciliation completes it.
        reconciled = await probeWhilePaging(target, options, gap, total, negentropy, (signal) => page(gap, signal));
        if (!reconciled) continue;
      } else if (negentropy?.usable) reconciled = await reconcileRange(target, options, gap, total, negentropy);
      if (!reconciled) {
        await page(gap);
        continue;
      }
      cover(target, options, gap);
      total.cursor = gap.since;
      options.onProgress?.({ ...total });
    }
  } catch (error) {
    if (error instanceof RelayIgnoresUntilError && !ignoresUntil(known, now())) {
      options.log.warn({ relay: target.relay, scope: target.scope }, 'relay ignores "until": paging it stopped and refused from now on');
      await learn({ respectsUntil: false, untilCheckedAt: new Date(now()).toISOString() });
    }
    throw error;
  } finally {
    await options.pipeline.flush();
  }
  return total;
}

/**
 * Records a range as covered once everything submitted before it is committed, and when it was
 * proven (the settle window re-checks it from then).
 */
function cover(target: BackfillTarget, options: BackfillOptions, range: Range): void {
  if (range.until < range.since) return;
  const at = unixSeconds(options.now ?? systemClock);
  options.pipeline
    .mark(async (tx) => {
      if (options.fence && !(await options.fence(tx))) return;
      await recordCoverage(tx, target.relay, target.scope, range);
      await storeProof(tx, target.relay, target.scope, range, at);
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
      if (full && negentropy?.usable && !negentropy.probe) complete = await reconcileRange(target, options, { since: cursor, until: cursor }, total, negentropy);
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
