/**
 * Planner statistics: what is due follows autovacuum's thresholds (pure), ANALYZE after writes
 * gives the planner its row counts, and the daemon's task analyzes a table once enough of it
 * changed, on both engines (the daemon runs it on PGlite only, where nothing else does).
 */
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/client.js';
import { analyzeAll, Maintenance, stepsDue, tableActivity, type TableActivity } from '../../src/db/maintenance.js';
import { handBuiltEvents } from '../fixtures/hand-built.js';
import { testNormalizeOptions, writeEvents } from '../api/helpers.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';

const idle = (table: string, rows: number): TableActivity => ({
  table,
  estimatedRows: rows,
  liveRows: rows,
  deadRows: 0,
  modifiedSinceAnalyze: 0,
  insertedSinceVacuum: 0,
});

describe('stepsDue', () => {
  it('nothing is due on tables that did not change', () => {
    expect(stepsDue([idle('a', 0), idle('b', 1_000_000)])).toEqual([]);
  });

  it('analyze past 50 + 10 % changed rows; never-analyzed tables use their live count', () => {
    expect(stepsDue([{ ...idle('a', 1000), modifiedSinceAnalyze: 150 }])).toEqual([]);
    expect(stepsDue([{ ...idle('a', 1000), modifiedSinceAnalyze: 151 }])).toEqual([{ table: 'a', action: 'analyze', reason: '151 rows changed since analyze' }]);
    expect(stepsDue([{ ...idle('new', 0), estimatedRows: -1, liveRows: 10_000, modifiedSinceAnalyze: 10_000 }])[0]?.action).toBe('analyze');
  });

  it('vacuum past 50 + 20 % dead rows or 1,000 + 20 % inserts; most pressing first', () => {
    const steps = stepsDue([
      { ...idle('changed', 1000), modifiedSinceAnalyze: 400 },
      { ...idle('dead', 1000), deadRows: 2000, modifiedSinceAnalyze: 2000 },
      { ...idle('appended', 1000), insertedSinceVacuum: 1300 },
    ]);
    expect(steps.map((s) => `${s.action} ${s.table}`)).toEqual(['vacuum dead', 'analyze changed', 'vacuum appended']);
    expect(stepsDue([{ ...idle('appended', 1000), insertedSinceVacuum: 1200 }])).toEqual([]);
  });
});

describe.each(engines)('maintenance on %s', (driver) => {
  let database: TestDatabase;
  const log = pino({ level: 'silent' });
  beforeAll(async () => {
    database = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  const estimate = async (table: string) =>
    Number((await query<{ n: number }>(database.db, sql`SELECT reltuples AS n FROM pg_class WHERE relname = ${table}`))[0]?.n);

  it('the daemon task analyzes what changed, then nothing is due; analyzeAll refreshes every estimate', async () => {
    await writeEvents(database, handBuiltEvents, await testNormalizeOptions(), 100);
    // The counters reach the shared statistics asynchronously: wait until the writes show.
    let activity: TableActivity[] = [];
    for (let i = 0; i < 200; i++) {
      activity = await tableActivity(database);
      if ((activity.find((a) => a.table === 'nostr_events')?.modifiedSinceAnalyze ?? 0) >= handBuiltEvents.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(activity.find((a) => a.table === 'nostr_events')?.modifiedSinceAnalyze).toBeGreaterThanOrEqual(handBuiltEvents.length);
    expect(stepsDue(activity).map((s) => s.table)).toContain('nostr_events');

    const task = new Maintenance({ database, log, intervalMs: 3_600_000, maxStatementsPerTick: 50 });
    await task.tick();
    const report = task.report();
    expect(report.steps).toBeGreaterThan(0);
    expect(report.recent.map((s) => s.table)).toContain('nostr_events');
    expect(await estimate('nostr_events')).toBeGreaterThanOrEqual(handBuiltEvents.length * 0.9);
    expect(stepsDue(await tableActivity(database)).map((s) => s.table)).not.toContain('nostr_events');
    await task.stop();

    await database.db.execute(sql`DELETE FROM event_relays`);
    await analyzeAll(database, log, 'test');
    expect(await estimate('event_relays')).toBe(0);
  });
});
