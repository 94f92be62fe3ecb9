import { describe, expect, it } from 'vitest';
import { judgeEose } from '../../../src/ingest/coverage/eose-proof.js';
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

describe('judgeEose', () => {
  const range = { since: 1000, until: 2000 };
  const limited = { limit: 10 };
  it('proves the whole range when the answer is shorter than the limit sent and the relay serves that many', () => {
    expect(judgeEose(range, { count: 9, oldest: 1500 }, limited, { maxLimit: 10 })).toMatchObject({ proven: range, hole: null, provenSince: 1000 });
    expect(judgeEose(range, { count: 0, oldest: null }, { limit: null }, {})).toMatchObject({ proven: range, hole: null, provenSince: 1000 });
  });
  it('proves only what is newer than the oldest second of a full answer; the rest is the hole', () => {
    expect(judgeEose(range, { count: 10, oldest: 1500 }, limited, { maxLimit: 10 })).toMatchObject({
      proven: { since: 1501, until: 2000 },
      hole: { since: 1000, until: 1500 },
      provenSince: 1501,
    });
    // A shorter answer from a relay whose cap nobody knows may still have been cut.
    expect(judgeEose(range, { count: 3, oldest: 1200 }, limited, {})).toMatchObject({ proven: { since: 1201, until: 2000 }, hole: { since: 1000, until: 1200 } });
  });
  it('never judges a REQ without limit by max_limit (the issue: 100 served, 1,000 advertised)', () => {
    const verdict = judgeEose(range, { count: 100, oldest: 1900 }, { limit: null }, { maxLimit: 1000 });
    expect(verdict.verdict.capped).toBe(true);
    expect(verdict.hole).toEqual({ since: 1000, until: 1900 });
  });
  it('cuts at the oldest event even when it is newer than the margin: the hole reaches it, the proof starts after it', () => {
    expect(judgeEose(range, { count: 10, oldest: 2005 }, limited, { maxLimit: 10 })).toMatchObject({
      proven: null,
      hole: { since: 1000, until: 2005 },
      provenSince: 2006,
    });
    expect(judgeEose(range, { count: 10, oldest: null }, limited, { maxLimit: 10 })).toMatchObject({ proven: null, hole: range, provenSince: null });
  });
});
