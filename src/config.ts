/**
 * Configuration from environment variables, validated once at start-up. Every variable is listed in
 * README.md; a bad value stops the process with a message naming the variable.
 */
import { z } from 'zod';

const commaList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean));

const envSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  NOSTR_CACHE_DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  SUBCLAW_BASES: commaList.default(['clawstr.com']),
  MAX_EVENT_BYTES: z.coerce.number().int().min(1024).default(262_144),
  MAX_FUTURE_SECONDS: z.coerce.number().int().min(0).default(900),
  VERIFY_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  WRITE_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
});

export type Config = {
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  host: string;
  port: number;
  subclawBases: string[];
  maxEventBytes: number;
  maxFutureSeconds: number;
  /** undefined: one worker per available core. */
  verifyWorkers: number | undefined;
  writeBatchSize: number;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as they do in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.NOSTR_CACHE_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    host: e.HOST,
    port: e.PORT,
    subclawBases: e.SUBCLAW_BASES,
    maxEventBytes: e.MAX_EVENT_BYTES,
    maxFutureSeconds: e.MAX_FUTURE_SECONDS,
    verifyWorkers: e.VERIFY_WORKERS,
    writeBatchSize: e.WRITE_BATCH_SIZE,
  };
}
