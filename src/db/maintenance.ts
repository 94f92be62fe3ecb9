/**
 * Planner statistics and vacuum where nobody else keeps them. A Postgres server runs autovacuum;
 * PGlite runs none, so without this its planner never learns table sizes: on 300k events the feed
 * took 150 ms p50 before one ANALYZE and 10 ms after (bench/RESULTS.md, "Maintenance").
 *
 * - `analyzeAll`: one ANALYZE of the database, after bulk writes (import, backfill, stats rebuild)
 *   and after migrations, on both engines (autovacuum would get there, minutes later).
 * - `Maintenance`: the daemon's periodic task on PGlite. Every interval it reads the activity
 *   counters and, like autovacuum's thresholds, analyzes a table whose changed rows exceed
 *   50 + 10 % of its size, and vacuums one whose dead rows exceed 50 + 20 % (or whose rows inserted
 *   since the last vacuum exceed 1,000 + 20 %: vacuum marks pages all-visible for index-only scans).
 *   PGlite runs one statement at a time, so a statement here pauses writes for its duration: one
 *   table per statement, at most `maxStatementsPerTick` per tick, each timed and logged.
 */
import { sql } from 'drizzle-orm';
import type { Logger } from '../log.js';
import { query, type Database } from './client.js';

export interface TableActivity {
  table: string;
  /** Planner's row estimate (pg_class.reltuples); -1 before the first ANALYZE. */
  estimatedRows: number;
  liveRows: number;
  deadRows: number;
  modifiedSinceAnalyze: number;
  insertedSinceVacuum: number;
}

export interface MaintenanceStep {
  table: string;
  action: 'analyze' | 'vacuum';
  reason: string;
}

/** Autovacuum's default thresholds (postgresql.conf), applied by this process. */
export const THRESHOLDS = {
  analyzeBase: 50,
  analyzeScale: 0.1,
  vacuumBase: 50,
  vacuumScale: 0.2,
  insertVacuumBase: 1000,
  insertVacuumScale: 0.2,
} as const;

/** What is due, most pressing first (pure). VACUUM (ANALYZE) covers both when both are due. */
export function stepsDue(tables: readonly TableActivity[], t = THRESHOLDS): MaintenanceStep[] {
  const steps: Array<MaintenanceStep & { pressure: number }> = [];
  for (const a of tables) {
    const size = a.estimatedRows >= 0 ? a.estimatedRows : a.liveRows;
    const analyzeAt = t.analyzeBase + t.analyzeScale * size;
    const vacuumAt = t.vacuumBase + t.vacuumScale * size;
    const insertAt = t.insertVacuumBase + t.insertVacuumScale * size;
    if (a.deadRows > vacuumAt) {
      steps.push({ table: a.table, action: 'vacuum', reason: `${a.deadRows} dead rows`, pressure: a.deadRows / vacuumAt });
    } else if (a.insertedSinceVacuum > insertAt) {
      steps.push({ table: a.table, action: 'vacuum', reason: `${a.insertedSinceVacuum} rows inserted since vacuum`, pressure: a.insertedSinceVacuum / insertAt });
    } else if (a.modifiedSinceAnalyze > analyzeAt) {
      steps.push({ table: a.table, action: 'analyze', reason: `${a.modifiedSinceAnalyze} rows changed since analyze`, pressure: a.modifiedSinceAnalyze / analyzeAt });
    }
  }
  return steps.sort((x, y) => y.pressure - x.pressure).map(({ pressure: _, ...step }) => step);
}

/** The activity counters of the public schema's tables. */
export async function tableActivity(database: Database): Promise<TableActivity[]> {
  // Counters of this backend are flushed to the shared statistics at idle; ask for it now (PGlite's
  // one backend may not have been idle long enough). The flush happens after this statement.
  await database.db.execute(sql`SELECT pg_stat_force_next_flush()`);
  const rows = await query<{ table: string; estimated: number; live: number; dead: number; modified: number; inserted: number }>(
    database.db,
    sql`SELECT s.relname AS table, c.reltuples AS estimated, s.n_live_tup AS live, s.n_dead_tup AS dead,
               s.n_mod_since_analyze AS modified, s.n_ins_since_vacuum AS inserted
          FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.schemaname = 'public'`,
  );
  return rows.map((r) => ({
    table: r.table,
    estimatedRows: r.estimated,
    liveRows: r.live,
    deadRows: r.dead,
    modifiedSinceAnalyze: r.modified,
    insertedSinceVacuum: r.inserted,
  }));
}

/** ANALYZE every table; logs and returns how long it took. */
export async function analyzeAll(database: Database, log: Logger, reason: string): Promise<number> {
  const started = performance.now();
  await database.db.execute(sql`ANALYZE`);
  const ms = Math.round(performance.now() - started);
  log.info({ reason, ms, driver: database.driver }, 'planner statistics updated (ANALYZE)');
  return ms;
}

/** Runs one step; returns its duration in ms. Table names come from pg_stat_user_tables. */
export async function runStep(database: Database, step: MaintenanceStep): Promise<number> {
  const started = performance.now();
  const table = sql.identifier(step.table);
  await database.db.execute(step.action === 'vacuum' ? sql`VACUUM (ANALYZE) ${table}` : sql`ANALYZE ${table}`);
  return performance.now() - started;
}

export interface MaintenanceOptions {
  database: Database;
  log: Logger;
  intervalMs: number;
  /** Statements per tick: bounds how long one tick can hold the database. */
  maxStatementsPerTick?: number;
}

export interface MaintenanceReport {
  intervalSeconds: number;
  ticks: number;
  steps: number;
  lastRunAt: string | null;
  /** The longest single statement so far, in ms: how long ingest writes waited at worst. */
  longestStatementMs: number;
  recent: Array<MaintenanceStep & { ms: number; at: string }>;
}

/** The daemon's periodic maintenance (PGlite). */
export class Maintenance {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private ticks = 0;
  private steps = 0;
  private longest = 0;
  private lastRunAt: Date | null = null;
  private readonly recent: MaintenanceReport['recent'] = [];

  constructor(private readonly options: MaintenanceOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  /** One pass: read the counters, run what is due (bounded). Never throws: logs instead. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    const { database, log } = this.options;
    this.ticks++;
    try {
      const due = stepsDue(await tableActivity(database)).slice(0, this.options.maxStatementsPerTick ?? 2);
      for (const step of due) {
        if (this.stopped) return;
        const ms = await runStep(database, step);
        this.steps++;
        this.longest = Math.max(this.longest, ms);
        this.lastRunAt = new Date();
        this.recent.unshift({ ...step, ms: Math.round(ms), at: this.lastRunAt.toISOString() });
        this.recent.length = Math.min(this.recent.length, 10);
        log.info({ table: step.table, action: step.action, reason: step.reason, ms: Math.round(ms) }, 'database maintenance');
      }
    } catch (error) {
      log.warn({ err: error }, 'database maintenance failed; retried next interval');
    }
  }

  private stopped = false;

  /** Stops the timer and waits for a running pass. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  report(): MaintenanceReport {
    return {
      intervalSeconds: this.options.intervalMs / 1000,
      ticks: this.ticks,
      steps: this.steps,
      lastRunAt: this.lastRunAt?.toISOString() ?? null,
      longestStatementMs: Math.round(this.longest),
      recent: [...this.recent],
    };
  }
}
