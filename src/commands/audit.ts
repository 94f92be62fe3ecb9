import { resolve } from 'node:path';
import type { Filter } from 'nostr-tools/filter';
import { auditScope, auditSettings } from '../ingest/audit/audit.js';
import { auditExitCode, formatAudit, type ScopeAudit } from '../ingest/audit/diff.js';
import { RelayConnection } from '../ingest/relay/connection.js';
import { loadRelaySet, normalizeRelayUrl } from '../ingest/fleet/relay-set.js';
import { authSignerFor } from '../ingest/service.js';
import { Progress } from '../progress.js';
import { openRuntime } from '../runtime.js';
import { parseTime } from './backfill.js';
import { UsageError, type Command } from './command.js';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'compare the cache with a relay over a time range (what each lacks)',
  help: `Usage: nostr-cache audit --relay <url> --since <date|unix> [--until <date|unix>] [--scope <name>]...

Compares the events the cache holds with those the relay holds, per scope of
RELAYS_FILE (default: every scope without batched keys) over [since, until], and
prints, per scope, the events the relay has that the cache lacks and the reverse.
Read-only: nothing is fetched into the cache (backfill does that).

The relay's side is learned with NIP-77 (negentropy: only the differences cross
the wire) when its NIP-11 document lists 77 or it has reconciled with this cache
before; otherwise, or when NIP-77 fails, by id paging (REQ pages backwards with
\`until\` and an explicit \`limit\`). Events the relay lists are checked for shape
and id hash, not signature. A progress line goes to stderr on long ranges.

Exit status: 0 when the cache lacks nothing the relay has; 1 when it lacks any
(or a second holds more events than a page and could not be listed); 2 on bad
arguments.

With the embedded database (no DATABASE_URL) stop the daemon first.

Options:
  --relay    relay URL (required)
  --since    start of the range (required)
  --until    end of the range (default: now)
  --scope    scope name (repeatable; default: all non-batched scopes)
  --method   auto (default), nip77 (try it whatever is known) or paging
  --limit    events per page (default: the relay's known page size, else 500)
  --timeout  seconds to wait for each relay answer (default 15)
  --json     print the result as JSON (every id)`,
  options: {
    relay: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    scope: { type: 'string', multiple: true },
    method: { type: 'string' },
    limit: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ config, values }) {
    if (typeof values.relay !== 'string') throw new UsageError('--relay is required');
    if (typeof values.since !== 'string') throw new UsageError('--since is required');
    const relay = normalizeRelayUrl(values.relay);
    const since = parseTime(values.since, 'since');
    const until = typeof values.until === 'string' ? parseTime(values.until, 'until') : Math.floor(Date.now() / 1000);
    if (until < since) throw new UsageError('--until is before --since');
    const method = (values.method ?? 'auto') as string;
    if (method !== 'auto' && method !== 'nip77' && method !== 'paging') throw new UsageError('--method must be auto, nip77 or paging');
    const limit = values.limit === undefined ? null : Number(values.limit);
    if (limit !== null && (!Number.isInteger(limit) || limit < 1 || limit > 5000)) throw new UsageError('--limit must be an integer from 1 to 5000');
    const timeoutSeconds = values.timeout === undefined ? 15 : Number(values.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError('--timeout must be a positive number of seconds');
    const relaySet = loadRelaySet(resolve(config.relaysFile));
    const scopeNames = (values.scope as string[] | undefined) ?? Object.keys(relaySet.scopes).filter((n) => !relaySet.scopes[n]!.batch);
    for (const name of scopeNames) {
      const scope = relaySet.scopes[name];
      if (!scope) throw new UsageError(`--scope: no scope "${name}" in ${config.relaysFile} (have: ${Object.keys(relaySet.scopes).join(', ')})`);
      if (scope.batch) throw new UsageError(`--scope: "${name}" follows batched keys, which have no time range to audit`);
    }

    const runtime = await openRuntime(config);
    const audits: ScopeAudit[] = [];
    const authSigner = authSignerFor(config.nostrSecretKey);
    const connection = new RelayConnection({
      url: relay,
      log: runtime.log.child({ relay }),
      maxFrameBytes: config.maxFrameBytes,
      // strfry's negentropy messages (~1 MB as hex) pass MAX_NEG_FRAME_BYTES, not MAX_FRAME_BYTES.
      maxNegFrameBytes: config.maxNegFrameBytes,
      ...(authSigner ? { authSigner } : {}),
    });
    try {
      const { nip77, pageSize } = await auditSettings(runtime.database.db, relay, limit);
      connection.start();
      for (const name of scopeNames) {
        const progress = new Progress(`audit ${relay} ${name}`, runtime.log);
        const audit = await auditScope(
          { connection, relay, scope: name, filter: relaySet.scopes[name]!.filter as Filter },
          {
            db: runtime.database.db,
            since,
            until,
            method,
            nip77,
            pageSize,
            timeoutMs: timeoutSeconds * 1000,
            onProgress: (p) =>
              progress.update({ done: p.cursor === null ? 0 : until - p.cursor, total: until - since, unit: 'seconds of history' }, { listed: p.listed }),
          },
        );
        progress.finish();
        audits.push(audit);
      }
    } finally {
      await connection.stop();
      await runtime.close();
    }
    process.stdout.write(values.json ? `${JSON.stringify(audits, null, 2)}\n` : formatAudit(audits));
    return auditExitCode(audits);
  },
};
