import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config.js';

export interface CommandInput {
  config: Config;
  values: Record<string, unknown>;
  positionals: string[];
}

export interface Command {
  /** One or two words: "import", "stats rebuild". */
  name: string;
  summary: string;
  /** Full --help text. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Returns the process exit code. */
  run(input: CommandInput): Promise<number>;
}

/** Bad arguments: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
