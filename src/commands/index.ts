import type { Command } from './command.js';
import { healthCommand } from './health.js';
import { importCommand } from './import.js';
import { migrateCommand } from './migrate.js';
import { startCommand } from './start.js';
import { statsRebuildCommand } from './stats-rebuild.js';

export const COMMANDS: Command[] = [startCommand, migrateCommand, importCommand, statsRebuildCommand, healthCommand];
