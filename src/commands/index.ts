import type { Command } from './command.js';
import { healthCommand } from './health.js';
import { importCommand } from './import.js';
import { migrateCommand } from './migrate.js';
import { startCommand } from './start.js';
import { statsRebuildCommand } from './stats-rebuild.js';
import { tokensCreateCommand, tokensListCommand, tokensRevokeCommand } from './tokens.js';

export const COMMANDS: Command[] = [startCommand, migrateCommand, importCommand, statsRebuildCommand, healthCommand, tokensCreateCommand, tokensListCommand, tokensRevokeCommand];
