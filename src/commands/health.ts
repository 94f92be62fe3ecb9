import { openDatabase } from '../db/client.js';
import { probeDatabase } from '../db/health.js';
import type { Command } from './command.js';

export const healthCommand: Command = {
  name: 'health',
  summary: 'check the database; exit non-zero when not healthy',
  help: `Usage: nostr-cache health

Probes the configured database (reachable, migrations applied, tables present)
and prints the result as JSON. Exit code 0 when healthy, 1 otherwise.`,
  options: {},
  async run({ config }) {
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    try {
      const health = await probeDatabase(database);
      process.stdout.write(`${JSON.stringify(health, null, 2)}\n`);
      return health.healthy ? 0 : 1;
    } finally {
      await database.close();
    }
  },
};
