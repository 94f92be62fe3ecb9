import { resolve } from 'node:path';
import type { Filter } from 'nostr-tools/filter';
import { analyzeAll } from '../db/maintenance.js';
import { backfill, type BackfillResult } from '../ingest/coverage/backfill.js';
import { RelayConnection } from '../ingest/relay/connection.js';
import { loadRelaySet, normalizeRelayUrl } from '../ingest/fleet/relay-set.js';
import { authSignerFor } from '../ingest/service.js';
import { Progress } from '../progress.js';
import { openRuntime } from '../runtime.js';
import { UsageError, type Command } from './command.js';

/** A date (2026-01-31, or any ISO timestamp) or unix seconds. */
export function parseTime(value: string, name: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--${name}: expected a date (2026-01-31) or unix seconds, got "${value}"`);
  return Math.floor(ms / 1000);
}

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'fetch history from relays for a time range (resumable)',
  help: `Usage: nostr-cache backfill --since <date|unix> [--until <date|unix>] [--relay <url>]... [--scope <name>]... [--recheck]

Pages each relay backwards with \`until\` over [since, until] for each scope of
RELAYS_FILE (default: every primary relay and every scope without batched keys),
through the same verification and store as live ingest. Covered ranges are
recorded as pages commit, so an interrupted backfill resumes where it stopped;
ranges already covered are skipped (--recheck ignores coverage and compares the
whole range again: NIP-77 where the relay supports it, paging otherwise, for events
that reached the relay after the range was covered). Progress (rate, ETA) goes to stderr, a
summary per relay and scope to stdout. When events were stored, ANALYZE then
refreshes the planner's statistics.

Pages ask no more than the page size a relay is known to serve (learned by
earlier runs, kept in relays.learned). A relay that returns events newer than a
page's \`until\` cannot be paged backwards: the run fails naming it, and later
runs refuse to page it (NIP-77 reconciliation is still tried).

With the embedded database (no DATABASE_URL) stop the daemon first: a PGlite data
directory belongs to one process.

Options:
  --since    start of the range (required)
  --until    end of the range (default: now)
  --relay    relay URL (repeatable; default: the primaries)
  --scope    scope name (repeatable; default: all non-batched scopes)
  --limit    events per page (default 500; lowered to what the relay is known to serve)
  --recheck  ignore coverage: reconcile or page the whole range again (late arrivals)
  --json     print the summary as JSON`,
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    relay: { type: 'string', multiple: true },
    scope: { type: 'string', multiple: true },
    limit: { type: 'string' },
    recheck: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ config, values }) {
    if (typeof values.since !== 'string') throw new UsageError('--since is required');
    const since = parseTime(values.since, 'since');
    const until = typeof values.until === 'string' ? parseTime(values.until, 'until') : Math.floor(Date.now() / 1000);
    if (until < since) throw new UsageError('--until is before --since');
    const limit = values.limit === undefined ? 500 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) throw new UsageError('--limit must be an integer from 1 to 5000');
    const relaySet = loadRelaySet(resolve(config.relaysFile));
    const relays = ((values.relay as string[] | undefined) ?? relaySet.primaries).map(normalizeRelayUrl);
    const scopeNames = (values.scope as string[] | undefined) ?? Object.keys(relaySet.scopes).filter((n) => !relaySet.scopes[n]!.batch);
    for (const name of scopeNames) {
      const scope = relaySet.scopes[name];
      if (!scope) throw new UsageError(`--scope: no scope "${name}" in ${config.relaysFile} (have: ${Object.keys(relaySet.scopes).join(', ')})`);
      if (scope.batch) throw new UsageError(`--scope: "${name}" follows batched keys; the daemon keeps it complete`);
    }

    const runtime = await openRuntime(config);
    const results: BackfillResult[] = [];
    const authSigner = authSignerFor(config.nostrSecretKey);
    try {
      for (const relay of relays) {
        const connection = new RelayConnection({
          url: relay,
          log: runtime.log.child({ relay }),
          maxFrameBytes: config.maxFrameBytes,
      maxNegFrameBytes: config.maxNegFrameBytes,
          ...(authSigner ? { authSigner } : {}),
        });
        connection.start();
        try {
          for (const name of scopeNames) {
            const progress = new Progress(`backfill ${relay} ${name}`, runtime.log);
            const result = await backfill(
              { connection, relay, scope: name, filter: relaySet.scopes[name]!.filter as Filter },
              {
                db: runtime.database.db,
                pipeline: await runtime.pipeline(),
                log: runtime.log,
                since,
                until,
                pageLimit: limit,
                recheck: values.recheck === true,
                onProgress: (p) => progress.update({ done: until - p.cursor, total: until - since, unit: 'seconds of history' }, { events: p.events, pages: p.pages }),
              },
            );
            progress.finish();
            results.push(result);
          }
        } finally {
          await connection.stop();
        }
      }
      if (results.some((r) => r.events > 0)) await analyzeAll(runtime.database, runtime.log, 'backfill');
    } finally {
      await runtime.close();
    }
    if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else {
      for (const r of results) {
        const incomplete = r.incompleteSeconds.length === 0 ? '' : `, incomplete seconds: ${r.incompleteSeconds.join(', ')}`;
        const n = r.negentropy;
        const nip77 = n.reconciled === 0 ? '' : `, NIP-77: ${n.reconciled} ranges reconciled, ${n.missing} missing events asked in ${n.requests} requests`;
        process.stdout.write(`${r.relay} ${r.scope}: ${r.events} events in ${r.pages} pages${nip77}${incomplete}\n`);
      }
    }
    return results.some((r) => r.incompleteSeconds.length > 0) ? 3 : 0;
  },
};
