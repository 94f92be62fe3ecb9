/** Writes one "## Section" of bench/RESULTS.md, replacing it if present and leaving the others. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const RESULTS = new URL('./RESULTS.md', import.meta.url);

export function writeResultsSection(heading: string, body: string): void {
  const section = `${heading}\n\n${body.trimEnd()}\n`;
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  let text = existsSync(RESULTS)
    ? readFileSync(RESULTS, 'utf8')
    : `# Benchmarks\n\nMachine: \`nproc\` = ${nproc}, Node ${process.version}.\n`;
  const start = text.indexOf(`${heading}\n`);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + heading.length);
    text = text.slice(0, start) + (next >= 0 ? `${section}\n${text.slice(next + 1)}` : section);
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(RESULTS, text);
}
