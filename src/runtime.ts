/**
 * Opens what every command needs, in one place: configuration, logger, the migrated database, the
 * verification pool and the normalisation options. Commands close it with `runtime.close()`.
 */
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { ensureVectorSupport } from './control/vector.js';
import { createLogger, type Logger } from './log.js';
import type { NormalizeOptions } from './nostr/types.js';
import { initVerifier, verifierBackend, verifyEventSync } from './nostr/verify.js';
import { VerifyPool } from './nostr/verify-pool.js';
import { IngestPipeline, type PipelineOptions } from './ingest/pipeline/pipeline.js';

export interface Runtime {
  config: Config;
  log: Logger;
  database: Database;
  normalizeOptions: NormalizeOptions;
  /** Started on first use: commands that verify nothing never spawn workers. */
  verifier(): Promise<VerifyPool>;
  pipeline(overrides?: Partial<PipelineOptions>): Promise<IngestPipeline>;
  close(): Promise<void>;
}

export async function normalizeOptionsFor(
  config: Pick<Config, 'subclawBases'> & Partial<Pick<Config, 'verifyBackend'>>,
): Promise<NormalizeOptions> {
  // Embedded zap requests are verified on the calling thread with the same backend as the pool.
  await initVerifier(config.verifyBackend ?? 'auto');
  return { subclawBases: config.subclawBases, verifyEmbedded: (event) => verifyEventSync(event) === 'ok' };
}

export async function openRuntime(config: Config, options: { migrate?: boolean; log?: Logger } = {}): Promise<Runtime> {
  const log = options.log ?? createLogger(config.logLevel, config.logFormat);
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    if (options.migrate !== false) {
      const applied = await runMigrations(database);
      if (applied > 0) log.info({ applied, driver: database.driver }, 'migrations applied');
      // Not a migration: the extension exists on one engine and not the other.
      const vector = await ensureVectorSupport(database, config.vectorDimension, log);
      log.info({ mode: vector, dimension: config.vectorDimension }, 'vector search');
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  log.info({ driver: database.driver, location: database.location }, 'database open');
  const normalizeOptions = await normalizeOptionsFor(config);
  let pool: Promise<VerifyPool> | null = null;
  log.info({ backend: verifierBackend(), requested: config.verifyBackend }, 'signature verification');
  const verifier = () =>
    (pool ??= VerifyPool.create({
      backend: config.verifyBackend,
      ...(config.verifyWorkers !== undefined ? { size: config.verifyWorkers } : {}),
    }));
  return {
    config,
    log,
    database,
    normalizeOptions,
    verifier,
    async pipeline(overrides = {}) {
      return new IngestPipeline({
        db: database.db,
        writeDb: database.writer,
        verifier: await verifier(),
        normalizeOptions,
        batchSize: config.writeBatchSize,
        maxFutureSeconds: config.maxFutureSeconds,
        maxEventBytes: config.maxEventBytes,
        onDatabaseError: (error) => database.recover(error),
        log,
        ...overrides,
      });
    },
    async close() {
      if (pool) await (await pool).close();
      await database.close();
    },
  };
}
