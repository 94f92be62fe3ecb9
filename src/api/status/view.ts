/**
 * What the status page shows, as one JSON document (GET /status.json), built from what the process
 * already knows: the ingest report (/health/ingest), the database probe (/health), PGlite's
 * maintenance task and the ingest rate history. Pure: the route gathers the inputs.
 */
import type { DatabaseHealth } from '../../db/health.js';
import type { MaintenanceReport } from '../../db/maintenance.js';
import type { RatePoint } from '../../observe/rate-history.js';

/** The parts of the ingest report shown (structural: ingest's own types may move). */
interface IngestReportView {
  startedAt?: string;
  relays?: Array<{
    url: string;
    status: string;
    failures: number;
    consecutiveFailures: number;
    nextAttemptAt: number | null;
    lastEventAt: number | null;
    lastError: string | null;
  }>;
  scopes?: Array<{
    scope: string;
    batched: boolean;
    coveredUntil: number | null;
    lagSeconds: number | null;
    servedBy: string[];
    fallbackActive: boolean;
    holes: Record<string, Array<[number, number]>>;
  }>;
  eventsPerSecond?: { lastMinute: number; sinceStart: number };
  outcomes?: { accepted: number; duplicate: number };
  backfillJobs?: Array<{ id: string; status: string; since: number; until: number; relays: string[]; scopes: string[]; current: unknown; error: string | null }>;
}

export interface StatusInputs {
  now: number;
  ingest: unknown | null;
  database: DatabaseHealth;
  engineMemoryBytes: number | null;
  maintenance: MaintenanceReport | null;
  rates: RatePoint[];
}

export function statusView(inputs: StatusInputs) {
  const report = (inputs.ingest ?? null) as IngestReportView | null;
  const db = inputs.database;
  return {
    generatedAt: new Date(inputs.now).toISOString(),
    ingest: report
      ? {
          running: true,
          startedAt: report.startedAt ?? null,
          eventsPerSecond: report.eventsPerSecond ?? null,
          stored: report.outcomes?.accepted ?? 0,
          duplicates: report.outcomes?.duplicate ?? 0,
        }
      : { running: false },
    relays: (report?.relays ?? []).map((r) => ({
      url: r.url,
      state: r.status,
      lastEventAt: r.lastEventAt,
      failures: r.failures,
      consecutiveFailures: r.consecutiveFailures,
      backoffSeconds: r.nextAttemptAt === null ? null : Math.max(0, Math.round((r.nextAttemptAt - inputs.now) / 1000)),
      lastError: r.lastError,
    })),
    scopes: (report?.scopes ?? []).map((s) => {
      const holes = Object.values(s.holes).flat();
      return {
        scope: s.scope,
        batched: s.batched,
        coveredUntil: s.coveredUntil,
        lagSeconds: s.lagSeconds,
        servedBy: s.servedBy,
        fallbackActive: s.fallbackActive,
        holes: holes.length,
        holeSeconds: holes.reduce((n, [from, to]) => n + Math.max(0, to - from), 0),
      };
    }),
    rate: inputs.rates,
    database: {
      healthy: db.healthy,
      driver: db.driver,
      location: db.location,
      migrations: db.migrations,
      missingTables: db.tables.missing,
      error: db.error ?? null,
      engineMemoryMb: inputs.engineMemoryBytes === null ? null : Math.round(inputs.engineMemoryBytes / 1048576),
      maintenance: inputs.maintenance,
    },
    backfillJobs: (report?.backfillJobs ?? []).map((j) => ({
      id: j.id,
      status: j.status,
      since: j.since,
      until: j.until,
      relays: j.relays,
      scopes: j.scopes,
      current: j.current,
      error: j.error,
    })),
  };
}

export type StatusView = ReturnType<typeof statusView>;
