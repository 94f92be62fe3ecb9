#!/usr/bin/env node
/**
 * nostr-cache <command>: the single entry point (package bin and npm scripts).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { RelaySetError } from './ingest/fleet/relay-set.js';
import { COMMANDS } from './commands/index.js';
import { UsageError, type Command } from './commands/command.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'nostr-cache: a Postgres cache of the Nostr social layer, with an HTTP API',
    '',
    'Usage: nostr-cache <command> [options]     (nostr-cache <command> --help for details)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from environment variables; see README.md.',
  ].join('\n');
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  // Longest match first, so "stats rebuild" wins over a hypothetical "stats".
  const sorted = [...COMMANDS].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const command of sorted) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  return null;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(`${usage()}\n`);
    return argv.length === 0 ? 1 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`nostr-cache: unknown command "${argv.join(' ')}"\n\n${usage()}\n`);
    return 2;
  }
  const { command, rest } = found;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`nostr-cache ${command.name}: ${(error as Error).message}\n\n${command.help}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    const config = loadConfig();
    return await command.run({ config, values: parsed.values as Record<string, unknown>, positionals: parsed.positionals });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof RelaySetError) {
      process.stderr.write(`nostr-cache ${command.name}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`nostr-cache ${command.name}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/** True when this file is the process's entry (tsx src/cli.ts, node dist/src/cli.js); bin/nostr-cache.js calls main itself. */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`nostr-cache: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
