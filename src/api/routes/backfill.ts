/**
 * POST /v1/backfill starts a backfill job in the ingest process; GET /v1/backfill/{id} follows it.
 * Token required. In a process without ingest (`nostr-cache serve`) both answer 503.
 */
import { z } from '@hono/zod-openapi';
import type { ApiApp, AppDependencies } from '../app.js';
import { ApiError, notFound } from '../errors.js';
import { endpoint } from './control/common.js';

const unixOrDate = z
  .union([z.number().int().min(0), z.string().min(1)])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    if (/^\d+$/.test(v)) return Number(v);
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expected unix seconds or an ISO date' });
      return z.NEVER;
    }
    return Math.floor(ms / 1000);
  })
  .openapi({ description: 'unix seconds or an ISO 8601 date', example: '2026-11-01' });

const Progress = z.object({ relay: z.string(), scope: z.string(), cursor: z.number(), since: z.number(), until: z.number(), pages: z.number(), events: z.number() });
const Key = z.object({ id: z.string(), createdAt: z.number() });
const Audit = z
  .object({
    relay: z.string(),
    scope: z.string(),
    since: z.number(),
    until: z.number(),
    method: z.enum(['nip77', 'paging']),
    fallback: z.string().nullable(),
    relayCount: z.number(),
    cacheCount: z.number(),
    missingInCache: z.array(Key).openapi({ description: 'on the relay, not in the cache (newest first)' }),
    missingOnRelay: z.array(Key).openapi({ description: 'in the cache, not on the relay (newest first)' }),
    invalid: z.number().openapi({ description: 'events the relay listed whose id is not their hash' }),
    incompleteSeconds: z.array(z.number()),
  })
  .openapi('BackfillAudit');
const Job = z
  .object({
    id: z.string(),
    kind: z.enum(['backfill', 'audit']).openapi({ description: 'audit: compare only (nothing fetched), results in `audits`' }),
    recheck: z.boolean().openapi({ description: 'coverage ignored: the whole range reconciled or paged again' }),
    status: z.enum(['queued', 'running', 'done', 'failed']),
    since: z.number(),
    until: z.number(),
    relays: z.array(z.string()),
    scopes: z.array(z.string()),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    current: Progress.nullable(),
    results: z.array(
      Progress.extend({
        incompleteSeconds: z.array(z.number()),
        observedPageSize: z.number(),
        negentropy: z
          .object({ reconciled: z.number(), missing: z.number(), requests: z.number(), fallback: z.string().nullable() })
          .openapi({ description: 'NIP-77: ranges reconciled, missing ids fetched, REQs used, and why paging was used instead' }),
        pageLimit: z.number().openapi({ description: 'events asked per page: the limit asked, lowered by what the relay is known to serve' }),
        learned: z.record(z.string(), z.unknown()).openapi({ description: 'what this run learned about the relay (stored in relays.learned)' }),
      }),
    ),
    audits: z.array(Audit),
    error: z.string().nullable(),
  })
  .openapi('BackfillJob');

function ingestOf(deps: AppDependencies) {
  if (!deps.backfill) throw new ApiError(503, 'ingest_not_running', 'backfill runs in the ingest process (nostr-cache start or ingest)');
  return deps.backfill;
}

function shape(job: ReturnType<NonNullable<AppDependencies['backfill']>['start']>) {
  return {
    id: job.id,
    kind: job.kind,
    recheck: job.recheck,
    status: job.status,
    since: job.since,
    until: job.until,
    relays: job.relays,
    scopes: job.scopes,
    created_at: job.createdAt,
    started_at: job.startedAt,
    finished_at: job.finishedAt,
    current: job.current,
    results: job.results,
    audits: job.audits,
    error: job.error,
  };
}

export function backfillRoutes(router: ApiApp, deps: AppDependencies): void {
  endpoint(
    router,
    deps,
    {
      method: 'post',
      path: '/backfill',
      tag: 'backfill',
      summary: 'Start a backfill job',
      description:
        'Pages the given relays (default: the primaries) backwards over [since, until] for the given scopes (default: all ' +
        'without batched keys). Jobs run one at a time; ranges already covered are skipped, so starting the same job ' +
        'again resumes it. `recheck: true` ignores coverage (late arrivals: NIP-77 where the relay supports it, paging ' +
        'otherwise). `audit: true` only compares the cache with each relay, as `nostr-cache audit` does: per scope, the ' +
        'events the relay has that the cache lacks and the reverse, in `audits`; nothing is fetched.',
      body: z
        .object({
          since: unixOrDate,
          until: unixOrDate.optional(),
          relays: z.array(z.string().url()).min(1).max(50).optional(),
          scopes: z.array(z.string().min(1)).min(1).max(50).optional(),
          limit: z.number().int().min(1).max(5000).optional(),
          recheck: z.boolean().optional(),
          audit: z.boolean().optional(),
        })
        .strict(),
      status: 201,
      response: Job,
    },
    async ({ body }) => {
      const jobs = ingestOf(deps);
      try {
        return shape(jobs.start(body));
      } catch (error) {
        const message = (error as Error).message;
        const field = message.split(':')[0] ?? 'json';
        throw new ApiError(400, 'bad_request', `invalid json.${message}`, { issues: [{ field: `json.${field}`, message }] });
      }
    },
  );
  endpoint(
    router,
    deps,
    {
      method: 'get',
      path: '/backfill/{id}',
      tag: 'backfill',
      summary: 'A backfill job: status, progress, results',
      params: z.object({ id: z.string().uuid() }),
      status: 200,
      response: Job,
    },
    async ({ params }) => {
      const job = ingestOf(deps).get(params.id);
      if (!job) throw notFound('backfill job');
      return shape(job);
    },
  );
}
