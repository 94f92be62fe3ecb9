/**
 * One open REQ: its filters, and the hand-over from stored events to live ones without a gap or a
 * repeat. It listens before its stored query runs, holds live events until EOSE is sent, then
 * releases those the stored answer did not already contain.
 */
import { matchFilter, type Filter } from 'nostr-tools/filter';
import type { LiveEvent, RelayFilter } from '../../store/queries/relay-filter.js';

/** The store's filter as nostr-tools' matcher reads it (search is matched by the database). */
export function toNostrToolsFilter(f: RelayFilter): Filter {
  const out: Filter = {};
  if (f.ids) out.ids = f.ids;
  if (f.authors) out.authors = f.authors;
  if (f.kinds) out.kinds = f.kinds;
  if (f.since !== undefined) out.since = f.since;
  if (f.until !== undefined) out.until = f.until;
  for (const t of f.tags) out[`#${t.name}`] = t.values;
  return out;
}

export class Subscription {
  private readonly matchers: Array<{ filter: Filter; search: string | undefined }>;
  private held: LiveEvent[] | null = [];
  private readonly sent = new Set<string>();
  closed = false;
  /** `["EVENT",<id>,` : what every EVENT frame of this subscription starts with. */
  readonly framePrefix: string;
  /** Stops live delivery to this subscription (set by whoever started it). */
  stopWatching: () => void = () => {};

  constructor(
    readonly id: string,
    readonly filters: readonly RelayFilter[],
  ) {
    this.matchers = filters.map((f) => ({ filter: toNostrToolsFilter(f), search: f.search }));
    this.framePrefix = `["EVENT",${JSON.stringify(id)},`;
  }

  /** No more events of any kind: closed, replaced or its connection gone. */
  close(): void {
    this.closed = true;
    this.stopWatching();
  }

  get live(): boolean {
    return this.held === null;
  }

  get hasSearch(): boolean {
    return this.matchers.some((m) => m.search !== undefined);
  }

  /** The searches of filters that match `event` on every other field. */
  searchesFor(event: LiveEvent): string[] {
    return this.matchers.filter((m) => m.search !== undefined && matchFilter(m.filter, event)).map((m) => m.search!);
  }

  /** Matches a filter without search; events needing a search are decided by `searchesFor`. */
  matches(event: LiveEvent): boolean {
    return this.matchers.some((m) => m.search === undefined && matchFilter(m.filter, event));
  }

  /** Records an event sent before EOSE (so it is not sent again live). */
  markSent(id: string): void {
    this.sent.add(id);
  }

  /** A live event: to send now (returned true), or held until EOSE. */
  offer(event: LiveEvent): boolean {
    if (this.closed) return false;
    if (this.held !== null) {
      this.held.push(event);
      return false;
    }
    return true;
  }

  /** EOSE is out: the held events the stored answer lacked, to send now; from here on live. */
  goLive(): LiveEvent[] {
    const held = this.held ?? [];
    this.held = null;
    const out = held.filter((e) => !this.sent.has(e.id));
    this.sent.clear();
    return out;
  }
}
