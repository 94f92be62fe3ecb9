/**
 * Backfill jobs started over the API (POST /v1/backfill): queued and run one at a time inside the
 * ingest process, through its pipeline and its relay connections, with progress visible in
 * GET /v1/backfill/:id and /health/ingest. Jobs live in memory: the coverage they record is what
 * persists, so a job cut short by a restart is resumed by starting it again. `recheck` ignores
 * coverage (late arrivals); `audit` only compares the cache with each relay (audit/audit.ts, as
 * `nostr-cache audit` does) and fetches nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Filter } from 'nostr-tools/filter';
import type { AppDatabase } from '../../db/client.js';
import type { Logger } from '../../log.js';
import { auditScope, auditSettings } from '../audit/audit.js';
import type { ScopeAudit } from '../audit/diff.js';
import { systemClock, unixSeconds, type Clock } from '../clock.js';
import { normalizeRelayUrl, type RelaySet } from '../fleet/relay-set.js';
import type { IngestPipeline } from '../pipeline/pipeline.js';
import type { RelayConnection } from '../relay/connection.js';
import { backfill, type BackfillProgress, type BackfillResult } from './backfill.js';

export interface BackfillJobSpec {
  since: number;
  until?: number;
  relays?: string[];
  scopes?: string[];
  limit?: number;
  /** Ignore coverage: reconcile or page the whole range again. */
  recheck?: boolean;
  /** Compare only (what each side lacks); nothing is fetched. */
  audit?: boolean;
}

export interface BackfillJob {
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
  current: BackfillProgress | null;
  results: BackfillResult[];
  /** Of an audit job: per (relay, scope), what the cache lacks and the reverse. */
  audits: ScopeAudit[];
  error: string | null;
}

export class BackfillSpecError extends Error {
  override name = 'BackfillSpecError';
}

export interface BackfillJobsOptions {
  db: AppDatabase;
  pipeline: IngestPipeline;
  relaySet: RelaySet;
  log: Logger;
  /** A connection to `url` (the daemon's own for relays it reads, else a new one) and its release. */
  connect: (url: string) => { connection: RelayConnection; release: () => Promise<void> };
  /** The ingest clock (milliseconds). */
  now?: Clock;
}

const KEEP_FINISHED = 50;

export class BackfillJobs {
  private readonly jobs = new Map<string, BackfillJob>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: BackfillJobsOptions) {}

  /** Validates and queues a job; throws BackfillSpecError naming the bad field. */
  start(spec: BackfillJobSpec): BackfillJob {
    const now = unixSeconds(this.o.now ?? systemClock);
    const until = spec.until ?? now;
    if (until < spec.since) throw new BackfillSpecError('until: before since');
    if (spec.audit && spec.recheck) throw new BackfillSpecError('recheck: an audit fetches nothing, so it has nothing to recheck');
    const relays = (spec.relays ?? this.o.relaySet.primaries).map((url, i) => {
      try {
        return normalizeRelayUrl(url);
      } catch {
        throw new BackfillSpecError(`relays.${i}: not a relay URL`);
      }
    });
    const scopes = spec.scopes ?? Object.keys(this.o.relaySet.scopes).filter((n) => !this.o.relaySet.scopes[n]!.batch);
    scopes.forEach((name, i) => {
      const scope = this.o.relaySet.scopes[name];
      if (!scope) throw new BackfillSpecError(`scopes.${i}: no scope "${name}"`);
      if (scope.batch) throw new BackfillSpecError(`scopes.${i}: "${name}" follows batched keys; the daemon keeps it complete`);
    });
    const job: BackfillJob = {
      id: randomUUID(),
      kind: spec.audit ? 'audit' : 'backfill',
      recheck: spec.recheck === true,
      status: 'queued',
      since: spec.since,
      until,
      relays,
      scopes,
      createdAt: new Date((this.o.now ?? systemClock)()).toISOString(),
      startedAt: null,
      finishedAt: null,
      current: null,
      results: [],
      audits: [],
      error: null,
    };
    this.jobs.set(job.id, job);
    this.prune();
    this.queue = this.queue.then(() => this.run(job, spec.limit ?? null));
    return job;
  }

  get(id: string): BackfillJob | undefined {
    return this.jobs.get(id);
  }

  list(): BackfillJob[] {
    return [...this.jobs.values()];
  }

  private async run(job: BackfillJob, limit: number | null): Promise<void> {
    job.status = 'running';
    job.startedAt = new Date((this.o.now ?? systemClock)()).toISOString();
    this.o.log.info({ job: job.id, since: job.since, until: job.until, relays: job.relays, scopes: job.scopes }, 'backfill job started');
    try {
      for (const relay of job.relays) {
        const { connection, release } = this.o.connect(relay);
        try {
          for (const scope of job.scopes) {
            if (job.kind === 'audit') {
              job.audits.push(await this.audit(job, connection, relay, scope, limit));
              continue;
            }
            job.results.push(
              await backfill(
                { connection, relay, scope, filter: this.o.relaySet.scopes[scope]!.filter as Filter },
                {
                  db: this.o.db,
                  pipeline: this.o.pipeline,
                  log: this.o.log,
                  since: job.since,
                  until: job.until,
                  pageLimit: limit ?? 500,
                  recheck: job.recheck,
                  onProgress: (p) => (job.current = p),
                  now: this.o.now ?? systemClock,
                },
              ),
            );
          }
        } finally {
          await release();
        }
      }
      job.status = 'done';
    } catch (error) {
      job.status = 'failed';
      job.error = (error as Error).message;
      this.o.log.error({ err: error, job: job.id }, 'backfill job failed');
    } finally {
      job.current = null;
      job.finishedAt = new Date((this.o.now ?? systemClock)()).toISOString();
    }
  }

  private async audit(job: BackfillJob, connection: RelayConnection, relay: string, scope: string, limit: number | null): Promise<ScopeAudit> {
    const { nip77, pageSize } = await auditSettings(this.o.db, relay, limit);
    job.current = { relay, scope, cursor: job.until, since: job.since, until: job.until, pages: 0, events: 0 };
    return auditScope(
      { connection, relay, scope, filter: this.o.relaySet.scopes[scope]!.filter as Filter },
      {
        db: this.o.db,
        since: job.since,
        until: job.until,
        method: 'auto',
        nip77,
        pageSize,
        timeoutMs: 15_000,
        onProgress: (p) => (job.current = { relay, scope, cursor: p.cursor ?? job.until, since: job.since, until: job.until, pages: 0, events: p.listed }),
      },
    );
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.status === 'done' || j.status === 'failed');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.id);
  }
}
