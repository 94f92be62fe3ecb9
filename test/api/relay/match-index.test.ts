/**
 * The live index narrows which subscriptions a committed event is matched against: it must never
 * leave out a subscription whose filter the event matches (checked against nostr-tools' matchFilter
 * over random filters and events), and it should leave out most of the others.
 */
import { matchFilter } from 'nostr-tools/filter';
import { describe, expect, it } from 'vitest';
import { anchorsOf, MatchIndex } from '../../../src/api/relay/match-index.js';
import { toNostrToolsFilter } from '../../../src/api/relay/subscription.js';
import type { RelayFilter, StoredEvent } from '../../../src/store/queries/relay-filter.js';
import { prng } from '../helpers.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');

describe('MatchIndex', () => {
  const random = prng(13);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const some = <T>(xs: readonly T[]): T[] => xs.filter(() => random() < 0.3).slice(0, 3).concat(pick(xs));
  const authors = Array.from({ length: 8 }, (_, i) => hex(i + 1));
  const ids = Array.from({ length: 40 }, (_, i) => hex(1000 + i));
  const kinds = [1, 7, 1111, 30023];
  const values = ['a', 'b', 'c', 'https://clawstr.com/c/ai'];

  function randomFilter(): RelayFilter {
    const f: RelayFilter = { tags: [] };
    if (random() < 0.15) f.ids = some(ids);
    if (random() < 0.4) f.authors = some(authors);
    if (random() < 0.6) f.kinds = some(kinds);
    if (random() < 0.5) f.tags.push({ name: pick(['I', 'i', 't']), values: some(values) });
    if (random() < 0.2) f.tags.push({ name: 'e', values: some(ids) });
    if (random() < 0.2) f.since = Math.floor(random() * 100);
    if (!f.ids && !f.authors && !f.kinds && f.tags.length === 0) f.search = 'word';
    return f;
  }

  function randomEvent(i: number): StoredEvent {
    const tags: string[][] = [];
    for (let t = 0; t < 3; t++) if (random() < 0.5) tags.push([pick(['I', 'i', 't', 'e', 'title']), pick([...values, ...ids.slice(0, 5)])]);
    return { id: pick(ids), pubkey: pick(authors), created_at: i % 100, kind: pick(kinds), tags, content: '', sig: '' };
  }

  it('every subscription a committed event matches is a candidate', () => {
    const index = new MatchIndex<number>();
    const subs = Array.from({ length: 300 }, () => [randomFilter(), ...(random() < 0.3 ? [randomFilter()] : [])]);
    subs.forEach((filters, i) => index.add(i, filters));
    let matched = 0;
    let candidates = 0;
    for (let i = 0; i < 500; i++) {
      const e = randomEvent(i);
      const out = new Set<number>();
      index.candidates(e, out);
      candidates += out.size;
      subs.forEach((filters, s) => {
        // A search-only filter is matched by the database: the index must offer it to every event.
        if (filters.some((f) => (f.search !== undefined ? anchorsOf(f)[0] === '*' : matchFilter(toNostrToolsFilter(f), e)))) {
          matched++;
          expect(out.has(s), `subscription ${s} for event ${i}`).toBe(true);
        }
      });
    }
    expect(matched).toBeGreaterThan(100);
    expect(candidates).toBeLessThan(500 * 300 * 0.5);
  });

  it('forgets removed subscriptions and re-files replaced ones', () => {
    const index = new MatchIndex<string>();
    index.add('a', [{ tags: [{ name: 'I', values: ['x'] }], kinds: [1111] }]);
    index.add('b', [{ tags: [], authors: [hex(1)] }]);
    const e: StoredEvent = { id: hex(9), pubkey: hex(1), created_at: 1, kind: 1111, tags: [['I', 'x']], content: '', sig: '' };
    const out = () => {
      const s = new Set<string>();
      index.candidates(e, s);
      return [...s].sort();
    };
    expect(out()).toEqual(['a', 'b']);
    index.remove('b');
    expect(out()).toEqual(['a']);
    index.add('a', [{ tags: [{ name: 'I', values: ['y'] }] }]);
    expect(out()).toEqual([]);
    expect(index.size).toBe(1);
  });
});
