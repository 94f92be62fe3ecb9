import { describe, expect, it } from 'vitest';
import { catchUpLimit, judgeAnswer, proofOfAnswer } from '../../../src/ingest/coverage/answer-cap.js';

describe('judgeAnswer', () => {
  it('an empty answer is never capped', () => {
    expect(judgeAnswer({ limit: null }, 0, {})).toEqual({ capped: false, reason: 'empty' });
    expect(judgeAnswer({ limit: 500 }, 0, {})).toMatchObject({ capped: false });
  });

  it("a REQ without limit is not judged by max_limit (@nostr-relay/core: 100 without, 1,000 with)", () => {
    // The case 2: had the relay advertised max_limit 1000, 100 events looked complete.
    expect(judgeAnswer({ limit: null }, 100, { maxLimit: 1000 })).toEqual({ capped: true, reason: 'cap unknown' });
    expect(judgeAnswer({ limit: null }, 99, { withoutLimitCap: 100 })).toMatchObject({ capped: false });
    expect(judgeAnswer({ limit: null }, 100, { withoutLimitCap: 100 })).toEqual({ capped: true, reason: 'at the known cap' });
  });

  it('a full answer to a limited REQ is capped', () => {
    expect(judgeAnswer({ limit: 1000 }, 1000, { maxLimit: 1000 })).toEqual({ capped: true, reason: 'full answer' });
    expect(judgeAnswer({ limit: 500 }, 500, {})).toEqual({ capped: true, reason: 'full answer' });
  });

  it('a shorter answer is complete when the relay is known to serve as many as asked', () => {
    expect(judgeAnswer({ limit: 1000 }, 300, { maxLimit: 1000 })).toMatchObject({ capped: false });
    expect(judgeAnswer({ limit: 500 }, 300, { learnedPageSize: 500 })).toMatchObject({ capped: false });
    expect(judgeAnswer({ limit: 500 }, 300, { largestLimitedAnswer: 800 })).toMatchObject({ capped: false });
  });

  it('a shorter answer may be capped when nothing says the relay serves that many', () => {
    expect(judgeAnswer({ limit: 500 }, 300, {})).toEqual({ capped: true, reason: 'cap unknown' });
    // It served 300 once: 300 now may be its cap.
    expect(judgeAnswer({ limit: 500 }, 300, { largestLimitedAnswer: 300 })).toEqual({ capped: true, reason: 'cap unknown' });
  });

  it('a learned page size below max_limit wins over it', () => {
    expect(judgeAnswer({ limit: 1000 }, 500, { maxLimit: 1000, learnedPageSize: 500 })).toEqual({ capped: true, reason: 'at the known cap' });
    expect(judgeAnswer({ limit: 1000 }, 499, { maxLimit: 1000, learnedPageSize: 500 })).toMatchObject({ capped: false });
    expect(judgeAnswer({ limit: 2000 }, 1000, { maxLimit: 1000 })).toEqual({ capped: true, reason: 'at the known cap' });
  });
});

describe('catchUpLimit', () => {
  it('asks the learned page size, else max_limit, else the fallback', () => {
    expect(catchUpLimit({ learnedPageSize: 300, maxLimit: 1000 }, 500)).toBe(300);
    expect(catchUpLimit({ maxLimit: 1000 }, 500)).toBe(1000);
    expect(catchUpLimit({}, 500)).toBe(500);
  });
});

describe('proofOfAnswer', () => {
  const range = { since: 1000, until: 2000 };
  it('a complete answer proves the range and leaves no hole', () => {
    expect(proofOfAnswer(range, 1500, { capped: false, reason: 'shorter than a known cap' })).toEqual({ proven: range, hole: null });
  });
  it('a capped one proves after its oldest second; the rest, that second included, is the hole', () => {
    expect(proofOfAnswer(range, 1970, { capped: true, reason: 'full answer' })).toEqual({
      proven: { since: 1971, until: 2000 },
      hole: { since: 1000, until: 1970 },
    });
  });
  it('an oldest event at the range end proves nothing; none readable leaves the whole range', () => {
    expect(proofOfAnswer(range, 2000, { capped: true, reason: 'full answer' })).toEqual({ proven: null, hole: range });
    expect(proofOfAnswer(range, null, { capped: true, reason: 'cap unknown' })).toEqual({ proven: null, hole: range });
  });
  it('an oldest event outside the range (a relay should not send one) is clamped into it', () => {
    expect(proofOfAnswer(range, 10, { capped: true, reason: 'full answer' })).toEqual({ proven: { since: 1001, until: 2000 }, hole: { since: 1000, until: 1000 } });
  });
});
