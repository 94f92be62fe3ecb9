import { probeDatabase } from '../db/health.js';
import { openDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import type { Command } from './command.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations and print the database health',
  help: `Usage: nostr-cache migrate

Applies the SQL migrations in migrations/ to the configured database (PGlite in
NOSTR_CACHE_DATA_DIR, or DATABASE_URL), then prints the health probe as JSON.
Safe to run repeatedly and from several processes at once. Exit code 0 when healthy.`,
  options: {},
  async run({ config }) {
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    try {
      const applied = await runMigrations(database);
      const health = await probeDatabase(database);
      process.stdout.write(`${JSON.stringify({ applied, ...health }, null, 2)}\n`);
      return health.healthy ? 0 : 1;
    } finally {
      await database.close();
    }
  },
};
