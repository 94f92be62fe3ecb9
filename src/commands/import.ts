import { existsSync } from 'node:fs';
import { importFile, type ImportReport } from '../ingest/import-file.js';
import { invalidTotal } from '../ingest/pipeline/outcomes.js';
import { analyzeAll } from '../db/maintenance.js';
import { openRuntime } from '../runtime.js';
import { UsageError, type Command } from './command.js';

export const importCommand: Command = {
  name: 'import',
  summary: 'import events from a JSON-lines file (or - for stdin)',
  help: `Usage: nostr-cache import <file.jsonl | -> [--json]

Streams NIP-01 events, one per line: a bare event object, or a relay frame
["EVENT", <subscription>, <event>]. Every event is shape-checked, deduplicated,
verified (id and signature, in worker threads), normalised and written in
batches. A bad line is reported with its line number and reason; it never stops
the import. Progress goes to stderr; the final report to stdout. After events
were stored, ANALYZE refreshes the planner's statistics.

Outcomes: accepted (stored), duplicate, superseded (older version of a
replaceable event), ephemeral (kinds 20000-29999, never stored), expired (NIP-40
expiration passed), invalid by reason.

Options:
  --json   print the report as JSON instead of a table`,
  options: { json: { type: 'boolean' } },
  async run({ config, values, positionals }) {
    const source = positionals[0];
    if (!source || positionals.length > 1) throw new UsageError('expected exactly one file path, or - for standard input');
    if (source !== '-' && !existsSync(source)) throw new UsageError(`no such file: ${source}`);
    const runtime = await openRuntime(config);
    try {
      const pipeline = await runtime.pipeline();
      const report = await importFile({ pipeline, source, log: runtime.log });
      if (report.outcomes.accepted > 0) await analyzeAll(runtime.database, runtime.log, 'import');
      process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      return 0;
    } finally {
      await runtime.close();
    }
  },
};

export function formatReport(report: ImportReport): string {
  const o = report.outcomes;
  const rows: Array<[string, number]> = [
    ['lines read', report.lines],
    ['events received', o.received],
    ['accepted', o.accepted],
    ['duplicate', o.duplicate],
    ['superseded', o.superseded],
    ['ephemeral', o.ephemeral],
    ['expired', o.expired],
    ['invalid', invalidTotal(o)],
    ...Object.entries(o.invalid)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([reason, n]): [string, number] => [`  ${reason}`, n]),
    ['deleted on arrival (of accepted)', o.deletedOnArrival],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v.toLocaleString('en-US').padStart(10)}`);
  const rate = report.seconds > 0 ? Math.round(o.received / report.seconds) : o.received;
  lines.push(`${'time'.padEnd(width)}  ${`${report.seconds.toFixed(1)} s`.padStart(10)}  (${rate.toLocaleString('en-US')} events/s)`);
  if (report.problems.length > 0) {
    lines.push('', 'first problems:');
    for (const p of report.problems) lines.push(`  line ${p.line}: ${p.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
