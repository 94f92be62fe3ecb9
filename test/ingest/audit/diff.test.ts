import { describe, expect, it } from 'vitest';
import { auditExitCode, diffKeys, formatAudit, type ScopeAudit } from '../../../src/ingest/audit/diff.js';

const k = (id: string, createdAt: number) => ({ id: id.repeat(64).slice(0, 64), createdAt });

describe('diffKeys', () => {
  it('lists each side’s own keys, newest first (ties by id)', () => {
    const relay = [k('a', 10), k('b', 30), k('c', 20), k('d', 30)];
    const cache = [k('a', 10), k('e', 5), k('f', 40)];
    expect(diffKeys(relay, cache)).toEqual({ missingInCache: [k('b', 30), k('d', 30), k('c', 20)], missingOnRelay: [k('f', 40), k('e', 5)] });
    expect(diffKeys(relay, relay)).toEqual({ missingInCache: [], missingOnRelay: [] });
  });
});

describe('report', () => {
  const base: ScopeAudit = {
    relay: 'ws://127.0.0.1:1',
    scope: 'comments',
    since: 1_760_000_000,
    until: 1_760_003_600,
    method: 'paging',
    fallback: 'NIP-77 support unknown',
    relayCount: 3,
    cacheCount: 2,
    missingInCache: [k('b', 1_760_000_100)],
    missingOnRelay: [],
    invalid: 0,
    incompleteSeconds: [],
  };
  it('exits 1 when the cache lacks any event, or a second could not be listed; 0 otherwise', () => {
    expect(auditExitCode([base])).toBe(1);
    expect(auditExitCode([{ ...base, missingInCache: [], missingOnRelay: [k('c', 1)] }])).toBe(0);
    expect(auditExitCode([{ ...base, missingInCache: [], incompleteSeconds: [1_760_000_000] }])).toBe(1);
    expect(auditExitCode([])).toBe(0);
  });
  it('prints one line per scope and the ids, capped per list', () => {
    const text = formatAudit([{ ...base, missingOnRelay: [k('c', 1_760_000_050), k('d', 1_760_000_040)] }], 1);
    expect(text).toBe(
      [
        'ws://127.0.0.1:1 comments [2025-10-09T08:53:20Z .. 2025-10-09T09:53:20Z] by id paging (NIP-77 support unknown): relay 3, cache 2; missing in cache 1, not on relay 2',
        `  missing in cache: ${'b'.repeat(64)} 2025-10-09T08:55:00Z`,
        `  not on relay: ${'c'.repeat(64)} 2025-10-09T08:54:10Z`,
        '  not on relay: … 1 more (--json lists all)',
        '',
      ].join('\n'),
    );
  });
});
