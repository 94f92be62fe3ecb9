/**
 * The audit's comparison and report, pure: which events of a (relay, scope, range) the relay has
 * and the cache lacks, and the reverse, and how that is printed and judged (exit 1 when the cache
 * lacks any: the cache's promise is that it holds what the relay holds).
 */

export interface EventKey {
  id: string;
  createdAt: number;
}

export interface ScopeAudit {
  relay: string;
  scope: string;
  since: number;
  until: number;
  /** How the relay's side was learned. */
  method: 'nip77' | 'paging';
  /** Why NIP-77 was not used (or failed), when paging. */
  fallback: string | null;
  /** Events on the relay (paging: every id it listed; NIP-77: the cache's count + missing − extra). */
  relayCount: number;
  cacheCount: number;
  /** On the relay, not in the cache: newest first. */
  missingInCache: EventKey[];
  /** In the cache, not on the relay: newest first. */
  missingOnRelay: EventKey[];
  /** Events the relay listed with an id that is not their hash (not counted on its side). */
  invalid: number;
  /** Seconds holding more events than a page, which paging could not list completely. */
  incompleteSeconds: number[];
}

const newestFirst = (a: EventKey, b: EventKey) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Both sides' keys in, the difference out (each list newest first). */
export function diffKeys(relay: Iterable<EventKey>, cache: Iterable<EventKey>): { missingInCache: EventKey[]; missingOnRelay: EventKey[] } {
  const relayById = new Map<string, EventKey>();
  for (const k of relay) relayById.set(k.id, k);
  const missingOnRelay: EventKey[] = [];
  for (const k of cache) {
    if (!relayById.delete(k.id)) missingOnRelay.push(k);
  }
  return { missingInCache: [...relayById.values()].sort(newestFirst), missingOnRelay: missingOnRelay.sort(newestFirst) };
}

/** 1 when the cache lacks any event a relay has (or a second could not be listed), else 0. */
export function auditExitCode(audits: readonly ScopeAudit[]): 0 | 1 {
  return audits.some((a) => a.missingInCache.length > 0 || a.incompleteSeconds.length > 0) ? 1 : 0;
}

const iso = (unix: number) => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');

/** The human report: one line per scope, then the ids that differ (up to `maxIds` per list). */
export function formatAudit(audits: readonly ScopeAudit[], maxIds = 50): string {
  const lines: string[] = [];
  for (const a of audits) {
    const how = a.method === 'nip77' ? 'NIP-77' : `id paging${a.fallback ? ` (${a.fallback})` : ''}`;
    lines.push(
      `${a.relay} ${a.scope} [${iso(a.since)} .. ${iso(a.until)}] by ${how}: relay ${a.relayCount}, cache ${a.cacheCount}; ` +
        `missing in cache ${a.missingInCache.length}, not on relay ${a.missingOnRelay.length}` +
        (a.invalid > 0 ? `, ${a.invalid} with a bad id ignored` : '') +
        (a.incompleteSeconds.length > 0 ? `; seconds denser than a page, not fully listed: ${a.incompleteSeconds.join(', ')}` : ''),
    );
    for (const [label, keys] of [
      ['missing in cache', a.missingInCache],
      ['not on relay', a.missingOnRelay],
    ] as const) {
      for (const k of keys.slice(0, maxIds)) lines.push(`  ${label}: ${k.id} ${iso(k.createdAt)}`);
      if (keys.length > maxIds) lines.push(`  ${label}: … ${keys.length - maxIds} more (--json lists all)`);
    }
  }
  return lines.join('\n') + '\n';
}
