/**
 * What the API is given, and the ports it needs of the ingest process. The API imports nothing from
 * ingest/ (types included): ingest's BackfillJobs and IngestService satisfy these ports
 * structurally, checked where commands/ wires them together.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import type { Config } from '../config.js';
import type { MaintenanceReport } from '../db/maintenance.js';
import type { RatePoint } from '../observe/rate-history.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import type { LiveEvents } from './relay/live-events.js';
import type { ResponseCache } from './response-cache.js';

export type ApiApp = OpenAPIHono<Env>;

export interface AppDependencies {
  config: Config;
  database: Database;
  log: Logger;
  /** Shared with other modules (ingest counters); the app creates one when absent. */
  metrics?: MetricsRegistry;
  /** Live ingest running in this process (start, ingest); absent for serve-only. */
  ingest?: IngestStatus;
  /** Backfill jobs of the ingest process (POST /v1/backfill); absent for serve-only. */
  backfill?: BackfillJobsApi;
  /**
   * Cache of public read responses, kept exact by write notifications (live-response-cache.ts);
   * absent: every read is computed (X-Cache: BYPASS).
   */
  responseCache?: ResponseCache;
  /** PGlite's periodic ANALYZE/VACUUM (db/maintenance.ts), in the ingest process. */
  maintenance?: { report(): MaintenanceReport };
  /** Ingest rate over the last minutes (observe/rate-history.ts), for the status page. */
  rates?: { points(): RatePoint[] };
  /** Committed events as they happen (relay/live-events.ts): the feed's server-sent events. */
  liveEvents?: LiveEvents;
}

/** A route group: registers its routes on the /v1 router. */
export type RouteGroup = (router: ApiApp, deps: AppDependencies) => void;

/** Where one backfill over (relay, scope) stands. */
export interface BackfillProgressView {
  relay: string;
  scope: string;
  cursor: number;
  since: number;
  until: number;
  pages: number;
  events: number;
}

/** One finished backfill over (relay, scope), as GET /v1/backfill/{id} shows it. */
export interface BackfillResultView extends BackfillProgressView {
  incompleteSeconds: number[];
  observedPageSize: number;
  negentropy: { reconciled: number; missing: number; requests: number; fallback: string | null };
  pageLimit: number;
  learned: Record<string, unknown>;
}

/** One (relay, scope) of an audit job: what the cache lacks and what the relay lacks. */
export interface AuditView {
  relay: string;
  scope: string;
  since: number;
  until: number;
  method: 'nip77' | 'paging';
  fallback: string | null;
  relayCount: number;
  cacheCount: number;
  missingInCache: Array<{ id: string; createdAt: number }>;
  missingOnRelay: Array<{ id: string; createdAt: number }>;
  invalid: number;
  incompleteSeconds: number[];
}

/** A backfill job as the API shows it. */
export interface BackfillJobView {
  id: string;
  kind: 'backfill' | 'audit';
  recheck: boolean;
  status: 'queued' | 'running' | 'done' | 'failed';
  since: number;
  until: number;
  relays: string[];
  scopes: string[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  current: BackfillProgressView | null;
  results: BackfillResultView[];
  audits: AuditView[];
  error: string | null;
}

/** What the API needs of backfill jobs (implemented by ingest/coverage/backfill-jobs.ts). */
export interface BackfillJobsApi {
  /** Throws with a message starting "<field>: " when the spec is invalid. */
  start(spec: {
    since: number;
    until?: number | undefined;
    relays?: string[] | undefined;
    scopes?: string[] | undefined;
    limit?: number | undefined;
    recheck?: boolean | undefined;
    audit?: boolean | undefined;
  }): BackfillJobView;
  get(id: string): BackfillJobView | undefined;
}

/** What the API needs of live ingest (implemented by ingest/service.ts). */
export interface IngestStatus {
  report(): unknown;
  readiness(maxLagSeconds: number): Array<{ scope?: string; relay?: string; problem: string }>;
}
