import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { DEFAULT_SETTLE_WINDOWS, parseSettleWindows, provenPieces, recordProof, settleWork, toleratedLateness, type ProvenRange } from '../../../src/ingest/coverage/settle-window.js';
import { settleWindowsOf } from '../../../src/ingest/service.js';

const NOW = 1_750_000_000;

describe('parseSettleWindows', () => {
  it('reads span/every pairs with units, sorted by span; off turns it off', () => {
    expect(parseSettleWindows('1d/1h, 1h/5m')).toEqual([...DEFAULT_SETTLE_WINDOWS]);
    expect(parseSettleWindows('3600/300')).toEqual([{ spanSeconds: 3600, everySeconds: 300 }]);
    expect(parseSettleWindows('off')).toEqual([]);
    expect(parseSettleWindows('')).toEqual([]);
  });
  it('refuses what it cannot read, naming the part', () => {
    expect(() => parseSettleWindows('1h')).toThrow(/"1h": expected span\/every/);
    expect(() => parseSettleWindows('1h/5x')).toThrow(/"5x" is not a duration/);
    expect(() => parseSettleWindows('5m/1h')).toThrow(/shorter than the span/);
    expect(() => parseSettleWindows('1h/0')).toThrow(/positive/);
  });
});

describe('SETTLE_WINDOWS', () => {
  it('defaults to the last hour every 5 minutes and the last day every hour; a bad value names the variable', () => {
    expect(settleWindowsOf(loadConfig({}).settleWindows)).toEqual([...DEFAULT_SETTLE_WINDOWS]);
    expect(settleWindowsOf(loadConfig({ SETTLE_WINDOWS: 'off' }).settleWindows)).toEqual([]);
    expect(() => loadConfig({ SETTLE_WINDOWS: 'hourly' })).toThrow(/SETTLE_WINDOWS/);
    expect(() => settleWindowsOf(loadConfig({ SETTLE_WINDOWS: '5m/1h' }).settleWindows)).toThrow(/SETTLE_WINDOWS: .*shorter than the span/);
  });
});

describe('provenPieces', () => {
  it('keeps recorded proof times inside coverage, and dates unrecorded (live) coverage by its own start', () => {
    const coverage = [{ since: 100, until: 999 }];
    const proofs: ProvenRange[] = [
      { since: 0, until: 299, provenAt: 5_000 },
      { since: 500, until: 599, provenAt: 6_000 },
    ];
    expect(provenPieces(coverage, proofs)).toEqual([
      { since: 100, until: 299, provenAt: 5_000 },
      { since: 300, until: 499, provenAt: 300 },
      { since: 500, until: 599, provenAt: 6_000 },
      { since: 600, until: 999, provenAt: 600 },
    ]);
    expect(provenPieces([], proofs)).toEqual([]);
  });
});

describe('recordProof', () => {
  it('re-proving part of a piece splits it; touching pieces of close times join keeping the older', () => {
    const pieces: ProvenRange[] = [{ since: 0, until: 999, provenAt: 100 }];
    expect(recordProof(pieces, { since: 400, until: 599 }, 5_000)).toEqual([
      { since: 0, until: 399, provenAt: 100 },
      { since: 400, until: 599, provenAt: 5_000 },
      { since: 600, until: 999, provenAt: 100 },
    ]);
    // Live coverage: each tick proves the next few seconds moments later.
    let live: ProvenRange[] = [];
    for (let t = 0; t < 100; t++) live = recordProof(live, { since: t * 5, until: t * 5 + 4 }, NOW + t * 5);
    expect(live.length).toBeLessThanOrEqual(Math.ceil(500 / 60) + 1);
    expect(live[0]).toMatchObject({ since: 0, provenAt: NOW });
    expect(live.at(-1)!.until).toBe(499);
  });
});

describe('settleWork', () => {
  it('re-checks the last hour when proven over 5 minutes ago, and the last day hourly', () => {
    const pieces: ProvenRange[] = [
      { since: NOW - 2 * 86_400, until: NOW - 86_401, provenAt: NOW - 86_400 }, // beyond both windows
      { since: NOW - 86_400, until: NOW - 3_601, provenAt: NOW - 1_800 }, // day window, proven 30 min ago
      { since: NOW - 3_600, until: NOW - 601, provenAt: NOW - 400 }, // hour window, proven 400 s ago
      { since: NOW - 600, until: NOW - 30, provenAt: NOW - 60 }, // fresh
    ];
    expect(settleWork(DEFAULT_SETTLE_WINDOWS, pieces, NOW)).toEqual([{ since: NOW - 3_600, until: NOW - 601 }]);
    // An hour later nothing was re-proven: the day piece and the hour pieces are all due.
    expect(settleWork(DEFAULT_SETTLE_WINDOWS, pieces, NOW + 3_600)).toEqual([{ since: NOW - 82_800, until: NOW - 30 }]);
  });

  it('nothing is due right after a re-check proved the windows again', () => {
    let pieces: ProvenRange[] = [{ since: NOW - 86_400, until: NOW - 30, provenAt: NOW - 7_200 }];
    for (const r of settleWork(DEFAULT_SETTLE_WINDOWS, pieces, NOW)) pieces = recordProof(pieces, r, NOW);
    expect(settleWork(DEFAULT_SETTLE_WINDOWS, pieces, NOW)).toEqual([]);
    expect(settleWork(DEFAULT_SETTLE_WINDOWS, pieces, NOW + 301)).toEqual([{ since: NOW + 301 - 3_600, until: NOW - 30 }]);
  });

  it('the windows off: nothing is ever due', () => {
    expect(settleWork([], [{ since: 0, until: NOW, provenAt: 0 }], NOW)).toEqual([]);
  });
});

describe('toleratedLateness', () => {
  it('by default: up to 55 minutes late within 5 minutes, up to 23 hours late within an hour', () => {
    expect(toleratedLateness(DEFAULT_SETTLE_WINDOWS)).toEqual([
      { lateBy: 3_300, within: 300 },
      { lateBy: 82_800, within: 3_600 },
    ]);
  });
});
