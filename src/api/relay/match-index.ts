/**
 * Which open subscriptions a committed event may match, without trying every one: each filter is
 * filed under one anchor it requires (an id, else one value of its narrowest tag, else an author,
 * else a kind; a search-only filter under "any"), and an event looks up only the anchors it carries.
 * The candidates are then matched exactly (subscription.ts); the index only narrows. Pure.
 */
import type { RelayFilter, StoredEvent } from '../../store/queries/relay-filter.js';

const ANY = '*';

/** The keys a filter is filed under: an event matching the filter carries at least one of them. */
export function anchorsOf(f: RelayFilter): string[] {
  if (f.ids) return f.ids.map((id) => `i${id}`);
  if (f.tags.length > 0) {
    const narrowest = f.tags.reduce((a, b) => (b.values.length < a.values.length ? b : a));
    return narrowest.values.map((v) => `t${narrowest.name}\u0000${v}`);
  }
  if (f.authors) return f.authors.map((a) => `a${a}`);
  if (f.kinds) return f.kinds.map((k) => `k${k}`);
  return [ANY];
}

export class MatchIndex<T> {
  private readonly byAnchor = new Map<string, Set<T>>();
  private readonly anchors = new Map<T, string[]>();

  get size(): number {
    return this.anchors.size;
  }

  items(): T[] {
    return [...this.anchors.keys()];
  }

  add(item: T, filters: readonly RelayFilter[]): void {
    this.remove(item);
    const keys = [...new Set(filters.flatMap(anchorsOf))];
    this.anchors.set(item, keys);
    for (const k of keys) {
      const set = this.byAnchor.get(k);
      if (set) set.add(item);
      else this.byAnchor.set(k, new Set([item]));
    }
  }

  remove(item: T): void {
    const keys = this.anchors.get(item);
    if (!keys) return;
    this.anchors.delete(item);
    for (const k of keys) {
      const set = this.byAnchor.get(k);
      set?.delete(item);
      if (set?.size === 0) this.byAnchor.delete(k);
    }
  }

  /** Adds to `out` every item whose filters the event could match. */
  candidates(event: StoredEvent, out: Set<T>): void {
    const take = (key: string) => {
      const set = this.byAnchor.get(key);
      if (set) for (const item of set) out.add(item);
    };
    take(`i${event.id}`);
    take(`a${event.pubkey}`);
    take(`k${event.kind}`);
    for (const tag of event.tags) {
      if (tag.length >= 2 && tag[0]!.length === 1) take(`t${tag[0]}\u0000${tag[1]}`);
    }
    take(ANY);
  }
}
