import type { Command } from './command.js';
import { auditCommand } from './audit.js';
import { backfillCommand } from './backfill.js';
import { healthCommand } from './health.js';
import { importCommand } from './import.js';
import { migrateCommand } from './migrate.js';
import { ingestCommand, serveCommand, startCommand } from './start.js';
import { statsRebuildCommand } from './stats-rebuild.js';
import { tokensCreateCommand, tokensListCommand, tokensRevokeCommand } from './tokens.js';

export const COMMANDS: Command[] = [startCommand, serveCommand, ingestCommand, migrateCommand, importCommand, backfillCommand, auditCommand, statsRebuildCommand, healthCommand, tokensCreateCommand, tokensListCommand, tokensRevokeCommand];
