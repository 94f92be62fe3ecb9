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
 */
import type { Filter } from 'nostr-tools/filter';
import type { AppDatabase } from '../db/client.js';
import type { Logger } from '../log.js';
import { loadCoverage, recordCoverage } from '../store/ingest-state.js';
import { mergeRanges, uncovered, type Range } from './coverage.js';
import type { IngestPipeline } from './pipeline.js';
import type { RelayConnection } from './relay-connection.js';

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
  /** Events asked per page; the relay may return fewer (learned as its real page size). */
  pageLimit?: number;
  /** Per-page wait for EOSE. */
  pageTimeoutMs?: number;
  onProgress?: (progress: BackfillProgress) => void;
  signal?: AbortSignal;
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
}

interface Page {
  events: Array<{ id: string; created_at: number; kind: number }>;
}

let pageCounter = 0;

/** Asks one page and hands every event to the pipeline; resolves at EOSE. */
function fetchPage(target: BackfillTarget, pipeline: IngestPipeline, filter: Filter, timeoutMs: number): Promise<Page> {
  const id = `backfill-${process.pid}-${++pageCounter}`;
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
        resolve({ events });
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
  };
  for (const gap of gaps) {
    const part = await backfillRange(target, { ...options, since: gap.since, until: gap.until }, total);
    total.incompleteSeconds.push(...part.incompleteSeconds);
  }
  await options.pipeline.flush();
  return total;
}

async function backfillRange(target: BackfillTarget, options: BackfillOptions, total: BackfillResult): Promise<BackfillResult> {
  const limit = options.pageLimit ?? 500;
  const timeoutMs = options.pageTimeoutMs ?? 30_000;
  const { since } = options;
  const incompleteSeconds: number[] = [];
  let cursor = options.until;
  /** Ids already received at the cursor second (the inclusive boundary). */
  let boundary = new Set<string>();

  const cover = (range: Range) => {
    if (range.until < range.since) return;
    options.pipeline
      .mark((tx) => recordCoverage(tx, target.relay, target.scope, range).then(() => undefined))
      .catch((error: unknown) => options.log.error({ err: error, ...range }, 'backfill coverage not recorded'));
  };

  while (cursor >= since) {
    if (options.signal?.aborted) throw new Error('backfill aborted');
    const page = await fetchPage(target, options.pipeline, { ...target.filter, since, until: cursor, limit }, timeoutMs);
    total.pages++;
    total.events += page.events.filter((e) => !(e.created_at === cursor && boundary.has(e.id))).length;
    total.observedPageSize = Math.max(total.observedPageSize, page.events.length);
    if (page.events.length === 0) {
      // EOSE with nothing at or below the cursor: [since, cursor] is complete.
      cover({ since, until: cursor });
      break;
    }
    if (page.events.every((e) => e.created_at === cursor)) {
      // Only the cursor second came back. A page as large as the relay's real page size may hide
      // more events at that second (it returns the same page for every `until` there).
      for (const e of page.events) boundary.add(e.id);
      const full = page.events.length >= Math.min(limit, total.observedPageSize);
      let complete = !full;
      if (full) complete = await resolveDenseSecond(target, options, cursor, boundary, total, limit, timeoutMs);
      if (complete) cover({ since: cursor, until: cursor });
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
      cover({ since: oldest + 1, until: cursor });
      boundary = new Set(page.events.filter((e) => e.created_at === oldest).map((e) => e.id));
      cursor = oldest;
    }
    total.cursor = cursor;
    options.onProgress?.({ ...total, cursor });
  }
  return { ...total, incompleteSeconds };
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
