/**
 * The default relay set follows every subclaw post form the normaliser accepts. The forms come
 * from the normaliser itself (SUBCLAW_FORMS, the list subclawOf reads), not from a list here: a
 * form added there and not followed by any scope fails this test.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { matchFilter, type Filter } from 'nostr-tools/filter';
import { finalizeEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../src/nostr/normalize/index.js';
import { SUBCLAW_FORMS } from '../src/nostr/normalize/nip22-comment.js';
import type { NostrEvent } from '../src/nostr/types.js';
import { secretKeys } from './fixtures/hand-built.js';
import { testNormalizeOptions } from './helpers/store.js';

const defaultSet = JSON.parse(readFileSync(resolve(import.meta.dirname, '../relays/default.json'), 'utf8')) as {
  scopes: Record<string, { filter: Filter; batch?: unknown }>;
};
/** Scopes with a fixed filter (batched ones follow keys of posts already cached, never new posts). */
const liveFilters = Object.entries(defaultSet.scopes)
  .filter(([, scope]) => !scope.batch)
  .map(([name, scope]) => [name, scope.filter] as const);

function post(tags: string[][]): NostrEvent {
  return finalizeEvent({ kind: 1111, created_at: 1_750_000_000, tags, content: 'a post' }, secretKeys.alice) as NostrEvent;
}

describe('default relay set', () => {
  const base = testNormalizeOptions.subclawBases[0]!;
  it('knows the normaliser has more than one form (the check below is not vacuous)', () => {
    expect(SUBCLAW_FORMS.length).toBeGreaterThanOrEqual(2);
  });

  for (const form of SUBCLAW_FORMS) {
    it(`a scope follows subclaw posts and replies with K = ${form.rootKind}`, () => {
      const identifier = form.identifier('ai', base);
      const top = post([
        ['I', identifier],
        ['K', form.rootKind],
        ['i', identifier],
        ['k', form.rootKind],
      ]);
      const reply = post([
        ['I', identifier],
        ['K', form.rootKind],
        ['e', top.id],
        ['k', '1111'],
      ]);
      for (const event of [top, reply]) {
        // The normaliser files it under the subclaw: the form is real…
        expect(normalizeEvent(event, testNormalizeOptions).subclaw).toBe('ai');
        // …and live ingest asks for it.
        const followedBy = liveFilters.filter(([, filter]) => matchFilter(filter, event)).map(([name]) => name);
        expect(followedBy, `no scope follows ${JSON.stringify(event.tags)}`).not.toHaveLength(0);
      }
    });
  }
});
