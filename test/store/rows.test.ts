/** unstorableReason: what Postgres text/jsonb cannot hold byte-exactly is refused, not altered. */
import { describe, expect, it } from 'vitest';
import { unstorableReason } from '../../src/store/rows.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { loadCorpus } from '../fixtures/corpus.js';

const base = loadCorpus().find((e) => e.tags.length > 1 && e.tags[1]!.length > 1)!;
const withTag = (value: string): NostrEvent => ({ ...base, tags: [...base.tags.slice(0, 1), [base.tags[1]![0]!, value]] });

describe('unstorableReason', () => {
  it('passes every real corpus event', () => {
    for (const e of loadCorpus()) expect(unstorableReason(e)).toBeNull();
  });

  it('names U+0000 in content or in any tag value', () => {
    expect(unstorableReason({ ...base, content: 'a\u0000b' })).toBe('nul_character');
    expect(unstorableReason(withTag('x\u0000'))).toBe('nul_character');
  });

  it('names a lone surrogate in content or in any tag value, but not a valid pair', () => {
    expect(unstorableReason({ ...base, content: 'a\ud800b' })).toBe('lone_surrogate');
    expect(unstorableReason(withTag('\udc00'))).toBe('lone_surrogate');
    expect(unstorableReason({ ...base, content: 'crab \ud83e\udd80' })).toBeNull();
  });

  it('reports the first problem found, content before tags', () => {
    expect(unstorableReason({ ...withTag('\ud800'), content: '\u0000' })).toBe('nul_character');
  });
});
