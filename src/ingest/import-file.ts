/**
 * `nostr-cache import <file.jsonl|->`: streams NIP-01 events, one per line (a bare event object, or a
 * relay frame `["EVENT", <sub>, <event>]`), through the ingest pipeline. A bad line is counted with
 * its line number and reason and never stops the import.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import { Progress } from '../progress.js';
import type { IngestPipeline, PipelineItem } from './pipeline/pipeline.js';
import type { OutcomeCounts } from './pipeline/outcomes.js';

export interface LineProblem {
  line: number;
  reason: string;
}

export interface ImportReport {
  lines: number;
  outcomes: OutcomeCounts;
  /** The first problems, with line numbers (all are counted in outcomes.invalid). */
  problems: LineProblem[];
  seconds: number;
}

export const MAX_LISTED_PROBLEMS = 50;

/** What a line holds: an event candidate, or a reason it cannot be one. */
export function parseImportLine(line: string): { value: unknown } | { reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { reason: 'bad_json' };
  }
  if (Array.isArray(parsed)) {
    // Relay-to-client ["EVENT", sub, event]; client-to-relay ["EVENT", event] too.
    if (parsed[0] === 'EVENT' && (parsed.length === 3 || parsed.length === 2)) return { value: parsed[parsed.length - 1] };
    return { reason: 'not_event' };
  }
  return { value: parsed };
}

export interface ImportOptions {
  pipeline: IngestPipeline;
  /** A file path, or '-' for standard input. */
  source: string;
  log: Logger;
  /** Line-problem callback (the CLI prints them as they come when asked to). */
  onProblem?: (problem: LineProblem) => void;
}

export async function importFile(options: ImportOptions): Promise<ImportReport> {
  const { pipeline, source, log } = options;
  const started = Date.now();
  const input: Readable = source === '-' ? process.stdin : createReadStream(source);
  const totalBytes = source === '-' ? null : statSync(source).size;
  const problems: LineProblem[] = [];
  const note = (problem: LineProblem) => {
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push(problem);
    options.onProblem?.(problem);
  };
  const unsubscribe = pipeline.onReject((item: PipelineItem, reason: string) => {
    if (item.ref !== undefined) note({ line: item.ref, reason });
  });

  const progress = new Progress('import', log);
  let lineNumber = 0;
  let bytes = 0;
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    lineNumber++;
    const size = Buffer.byteLength(line) + 1;
    bytes += size;
    if (line.trim() === '') continue;
    const parsed = parseImportLine(line);
    if ('reason' in parsed) {
      // Counted like any rejection, so the report's totals add up to the lines read.
      pipeline.countRejected({ value: line, relay: null, ref: lineNumber }, parsed.reason);
      continue;
    }
    await pipeline.submit({ value: parsed.value, bytes: size - 1, relay: null, ref: lineNumber });
    progress.update({ done: bytes, total: totalBytes, unit: 'bytes' }, { events: pipeline.counts.received, stored: pipeline.counts.accepted });
  }
  try {
    await pipeline.flush();
  } finally {
    unsubscribe();
  }
  progress.update({ done: bytes, total: totalBytes, unit: 'bytes' }, { events: pipeline.counts.received, stored: pipeline.counts.accepted }, true);
  progress.finish();
  problems.sort((a, b) => a.line - b.line);
  return { lines: lineNumber, outcomes: pipeline.counts, problems, seconds: (Date.now() - started) / 1000 };
}
