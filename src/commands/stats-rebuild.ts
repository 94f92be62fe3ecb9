import { analyzeAll } from '../db/maintenance.js';
import { openRuntime } from '../runtime.js';
import { refreshHotRanking } from '../store/ranking.js';
import { rebuildDerived } from '../store/rebuild.js';
import type { Command } from './command.js';

export const statsRebuildCommand: Command = {
  name: 'stats rebuild',
  summary: 'recompute every derived table from nostr_events and report the drift corrected',
  help: `Usage: nostr-cache stats rebuild [--json]

Recomputes tombstones, deletion state, reactions, zaps, per-event stats, the
top ranking (post_ranking), profiles, communities, moderators and approvals
from nostr_events, compares
each with what is stored, and replaces what differs, in one transaction.
Prints the number of rows corrected per table: 0 everywhere on a consistent
database. Exit code 0 either way (drift found is drift fixed). Then writes a
new hot snapshot (hot_ranking) from the corrected ranking, and ANALYZE
refreshes the planner's statistics of the rewritten tables.

Options:
  --json   print the drift report as JSON`,
  options: { json: { type: 'boolean' } },
  async run({ config, values }) {
    const runtime = await openRuntime(config);
    try {
      const drift = await rebuildDerived(runtime.database.db, runtime.normalizeOptions);
      // The hot snapshot is built from post_ranking: a new generation from the corrected one.
      await refreshHotRanking(runtime.database.db, Math.floor(Date.now() / 1000));
      await analyzeAll(runtime.database, runtime.log, 'stats rebuild');
      const total = Object.values(drift).reduce((a, b) => a + b, 0);
      if (values.json) process.stdout.write(`${JSON.stringify({ total, drift }, null, 2)}\n`);
      else {
        const width = Math.max(...Object.keys(drift).map((k) => k.length));
        for (const [table, n] of Object.entries(drift)) process.stdout.write(`${table.padEnd(width)}  ${n}\n`);
        process.stdout.write(`${'total drift'.padEnd(width)}  ${total}\n`);
      }
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
