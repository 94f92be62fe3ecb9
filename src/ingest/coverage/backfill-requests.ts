/**
 * One REQ of a backfill: asked over the relay connection, every event handed to the pipeline, the
 * answer's keys kept for the cursor, resolved at EOSE. A page holding events newer than its `until`
 * is refused here (RelayIgnoresUntilError), so no caller can record coverage from it.
 */
import type { Filter } from 'nostr-tools/filter';
import type { IngestPipeline } from '../pipeline/pipeline.js';
import type { RelayConnection } from '../relay/connection.js';

export interface BackfillTarget {
  connection: RelayConnection;
  relay: string;
  scope: string;
  filter: Filter;
}

export interface Page {
  events: Array<{ id: string; created_at: number; kind: number }>;
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

let requestCounter = 0;
export const requestId = (prefix: string) => `${prefix}-${process.pid}-${++requestCounter}`;

/** Asks one page and hands every event to the pipeline; resolves at EOSE. */
export function fetchPage(target: BackfillTarget, pipeline: IngestPipeline, filter: Filter, timeoutMs: number): Promise<Page> {
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
