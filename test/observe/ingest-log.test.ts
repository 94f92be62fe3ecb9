/**
 * Operator logs read from the ingest status: a warning at a relay's first failure, then at most one
 * per interval while it keeps failing, an info line when it recovers, and a summary per minute.
 */
import { describe, expect, it } from 'vitest';
import { IngestLogReporter, summarize, transitions, type IngestView, type RelayView } from '../../src/observe/ingest-log.js';

const relay = (over: Partial<RelayView> = {}): RelayView => ({
  url: 'wss://r.example',
  status: 'connected',
  failures: 0,
  consecutiveFailures: 0,
  nextAttemptAt: null,
  lastError: null,
  ...over,
});
const down = (failures: number, now: number) =>
  relay({ status: 'backoff', failures, consecutiveFailures: failures, lastError: 'connect ECONNREFUSED 127.0.0.1:1', nextAttemptAt: now + 4000 });

describe('transitions', () => {
  it('a connected relay that stays connected logs nothing', () => {
    expect(transitions(relay(), relay(), undefined, 1000, 60_000).lines).toEqual([]);
  });

  it('first failure warns at once with the error and the retry; then quiet until the interval; then one repeat', () => {
    const first = transitions(relay({ status: 'connecting' }), down(1, 0), undefined, 0, 60_000);
    expect(first.lines).toEqual([
      { level: 'warn', msg: 'relay failed to connect', fields: { relay: 'wss://r.example', error: 'connect ECONNREFUSED 127.0.0.1:1', status: 'backoff', retryInSeconds: 4 } },
    ]);
    const quiet = transitions(down(1, 0), down(5, 30_000), first.memory, 30_000, 60_000);
    expect(quiet.lines).toEqual([]);
    const repeat = transitions(down(5, 30_000), down(9, 61_000), quiet.memory, 61_000, 60_000);
    expect(repeat.lines).toHaveLength(1);
    expect(repeat.lines[0]).toMatchObject({ level: 'warn', msg: 'relay still failing', fields: { failuresSinceLastWarning: 8, downSeconds: 61 } });
    const again = transitions(down(9, 61_000), down(10, 90_000), repeat.memory, 90_000, 60_000);
    expect(again.lines).toEqual([]);
  });

  it('recovery after a failure streak is one info line with the time down; the next failure warns again', () => {
    const failed = transitions(relay(), down(1, 0), undefined, 0, 60_000);
    const back = transitions(down(3, 20_000), relay({ failures: 3 }), failed.memory, 45_000, 60_000);
    expect(back.lines).toEqual([{ level: 'info', msg: 'relay recovered', fields: { relay: 'wss://r.example', downSeconds: 45, failedAttempts: 3 } }]);
    expect(transitions(relay({ failures: 3 }), relay({ failures: 3 }), back.memory, 50_000, 60_000).lines).toEqual([]);
    expect(transitions(relay({ failures: 3 }), down(4, 60_000), back.memory, 60_000, 60_000).lines[0]?.msg).toBe('relay failed to connect');
  });

  it('a failure and reconnect between two samples still shows: a warning and the recovery', () => {
    const { lines } = transitions(relay({ failures: 2 }), relay({ failures: 3, lastError: 'socket hang up' }), undefined, 5000, 60_000);
    expect(lines.map((l) => l.msg)).toEqual(['relay failed to connect', 'relay recovered']);
  });
});

const view = (accepted: number, over: Partial<IngestView> = {}): IngestView => ({
  relays: [relay(), relay({ url: 'wss://b.example', status: 'backoff', failures: 2, consecutiveFailures: 2 })],
  scopes: [
    { scope: 'web-comments', batched: false, lagSeconds: 42, holes: { 'wss://r.example': [[1, 2], [5, 9]] } },
    { scope: 'communities', batched: false, lagSeconds: 7, holes: {} },
    { scope: 'profiles', batched: true, lagSeconds: null, holes: {} },
  ],
  outcomes: { accepted },
  ...over,
});

describe('summarize', () => {
  it('counts events stored since the last summary, relays connected, holes and the worst lag', () => {
    expect(summarize(view(1300), 100, 60)).toEqual({
      level: 'info',
      msg: 'ingest summary',
      fields: { stored: 1200, eventsPerSecond: 20, relaysConnected: 1, relays: 2, holes: 2, maxLagSeconds: 42, laggingScope: 'web-comments' },
    });
  });
});

describe('IngestLogReporter', () => {
  it('samples the status source and writes pino records: warn, then info, then the summary', () => {
    let now = 1_000_000;
    let current: IngestView = view(0, { relays: [relay({ status: 'connecting' })] });
    const records: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    const log = {
      warn: (fields: Record<string, unknown>, msg: string) => records.push({ level: 'warn', fields, msg }),
      info: (fields: Record<string, unknown>, msg: string) => records.push({ level: 'info', fields, msg }),
    };
    const reporter = new IngestLogReporter({ source: { report: () => current }, log: log as never, now: () => now });
    reporter.sample();
    current = view(0, { relays: [down(1, now)] });
    now += 5000;
    reporter.sample();
    now += 5000;
    reporter.sample();
    current = view(600, { relays: [relay({ failures: 1 })] });
    now += 50_000;
    reporter.sample();
    reporter.summary();
    expect(records.map((r) => `${r.level} ${r.msg}`)).toEqual(['warn relay failed to connect', 'info relay recovered', 'info ingest summary']);
    expect(records[1]?.fields).toMatchObject({ downSeconds: 55 });
    expect(records[2]?.fields).toMatchObject({ stored: 600, eventsPerSecond: 10 });
  });

  it('a report without ingest (serve-only shape) logs nothing', () => {
    const records: unknown[] = [];
    const reporter = new IngestLogReporter({ source: { report: () => ({ running: false }) }, log: { info: () => records.push(1), warn: () => records.push(1) } as never });
    reporter.sample();
    reporter.summary();
    expect(records).toEqual([]);
  });
});
