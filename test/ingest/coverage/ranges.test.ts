import { describe, expect, it } from 'vitest';
import { provenByEose } from '../../../src/ingest/coverage/eose-proof.js';
import { addRange, coveredUntil, holes, isCovered, mergeRanges, uncovered } from '../../../src/ranges.js';

describe('coverage ranges', () => {
  it('merges overlapping and touching ranges, keeps gaps', () => {
    expect(mergeRanges([{ since: 10, until: 20 }, { since: 0, until: 5 }, { since: 21, until: 30 }, { since: 15, until: 18 }])).toEqual([
      { since: 0, until: 5 },
      { since: 10, until: 30 },
    ]);
  });

  it('drops empty (inverted) ranges', () => {
    expect(mergeRanges([{ since: 5, until: 4 }])).toEqual([]);
  });

  it('reports holes between ranges and the newest covered point', () => {
    const ranges = [{ since: 100, until: 200 }, { since: 0, until: 50 }, { since: 300, until: 400 }];
    expect(holes(ranges)).toEqual([
      { since: 51, until: 99 },
      { since: 201, until: 299 },
    ]);
    expect(coveredUntil(ranges)).toBe(400);
    expect(coveredUntil([])).toBeNull();
  });

  it('a reconnect REQ starting before covered_until closes the hole it would leave', () => {
    const before = [{ since: 0, until: 1000 }];
    // Disconnected at 1000, reconnected later with since = covered_until - overlap.
    const after = addRange(before, { since: 1000 - 30, until: 2000 });
    expect(after).toEqual([{ since: 0, until: 2000 }]);
    expect(holes(after)).toEqual([]);
  });

  it('tells what part of a wanted range is not covered', () => {
    const ranges = [{ since: 10, until: 20 }, { since: 30, until: 40 }];
    expect(uncovered(ranges, { since: 0, until: 50 })).toEqual([
      { since: 0, until: 9 },
      { since: 21, until: 29 },
      { since: 41, until: 50 },
    ]);
    expect(uncovered(ranges, { since: 12, until: 18 })).toEqual([]);
    expect(isCovered(ranges, { since: 12, until: 18 })).toBe(true);
    expect(isCovered(ranges, { since: 12, until: 35 })).toBe(false);
  });
});

describe('provenByEose', () => {
  const range = { since: 1000, until: 2000 };
  it('proves the whole range when the answer is shorter than the known page size', () => {
    expect(provenByEose(range, { count: 9, oldest: 1500 }, 10)).toEqual(range);
    expect(provenByEose(range, { count: 0, oldest: null }, null)).toEqual(range);
  });
  it('proves only what is newer than the oldest second of a possibly capped answer', () => {
    expect(provenByEose(range, { count: 10, oldest: 1500 }, 10)).toEqual({ since: 1501, until: 2000 });
    // Page size unknown: any non-empty answer may be capped.
    expect(provenByEose(range, { count: 3, oldest: 1200 }, null)).toEqual({ since: 1201, until: 2000 });
  });
  it('proves nothing when the cut falls past the range or no created_at was readable', () => {
    expect(provenByEose(range, { count: 10, oldest: 2000 }, 10)).toBeNull();
    expect(provenByEose(range, { count: 10, oldest: null }, 10)).toBeNull();
  });
});
