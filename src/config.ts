/**
 * Configuration from environment variables, validated once at start-up. Every variable is listed in
 * README.md; a bad value stops the process with a message naming the variable.
 */
import { z } from 'zod';
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from './nostr/relay-limits.js';
import { VERIFY_BACKEND_CHOICES, type VerifyBackendChoice } from './nostr/verify.js';

const commaList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean));

const envSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  NOSTR_CACHE_DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  SUBCLAW_BASES: commaList.default(['clawstr.com']),
  MAX_EVENT_BYTES: z.coerce.number().int().min(1024).default(262_144),
  MAX_FUTURE_SECONDS: z.coerce.number().int().min(0).default(900),
  VERIFY_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  VERIFY_BACKEND: z.enum(VERIFY_BACKEND_CHOICES).default('auto'),
  WRITE_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  FEED_AI_DEFAULT: z.enum(['all', 'only', 'exclude']).default('all'),
  CORS_ORIGINS: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .default(['*']),
  READS_REQUIRE_TOKEN: z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false),
  READ_CACHE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(5),
  RESPONSE_CACHE_MB: z.coerce.number().min(0).max(65_536).default(64),
  RESPONSE_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(10),
  VECTOR_DIMENSION: z.coerce.number().int().min(1).max(2000).default(1536),
  AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).default(20),
  AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(300),
  // How many reverse proxies in front of this process append to X-Forwarded-For (true = 1, false = 0).
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2})$/, 'expected a hop count (0, 1, 2, …), true (= 1) or false (= 0)')
    .transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : Number(v)))
    .default(0),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(10),
  RELAYS_FILE: z.string().min(1).default('relays/default.json'),
  NOSTR_SECRET_KEY: z
    .string()
    .regex(/^([0-9a-f]{64}|nsec1[02-9ac-hj-np-z]+)$/, 'must be 64 lowercase hex characters or an nsec')
    .optional(),
  MAX_FRAME_BYTES: z.coerce.number().int().min(1024).default(524_288),
  // NEG-MSG frames of an open NIP-77 session: strfry's 500,000-byte messages are ~1 MB as hex.
  MAX_NEG_FRAME_BYTES: z.coerce.number().int().min(1024).default(1_100_000),
  // span/every pairs (ingest/coverage/settle-window.ts parses them; every < span is checked there).
  SETTLE_WINDOWS: z
    .string()
    .trim()
    .regex(/^(off|\d+[smhd]?\/\d+[smhd]?(,\d+[smhd]?\/\d+[smhd]?)*)$/, 'expected span/every pairs such as 1h/5m,1d/1h, or off')
    .default('1h/5m,1d/1h'),
  INGEST_OVERLAP_SECONDS: z.coerce.number().int().min(0).default(60),
  INGEST_CLOCK_MARGIN_SECONDS: z.coerce.number().int().min(0).default(30),
  INGEST_INITIAL_LOOKBACK_SECONDS: z.coerce.number().int().min(0).default(3600),
  FALLBACK_AFTER_SECONDS: z.coerce.number().int().min(1).default(60),
  HANDBACK_AFTER_SECONDS: z.coerce.number().int().min(0).default(120),
  INGEST_OWNERSHIP_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  INGEST_REPAIR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  // A relay owner's lease (its heartbeat); default twice the interval (fleet/ownership.ts).
  INGEST_LEASE_SECONDS: z.coerce.number().int().min(2).max(7200).optional(),
  READY_MAX_LAG_SECONDS: z.coerce.number().int().min(1).default(300),
  MAINTENANCE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  // The NIP-01 relay endpoint (nostr/relay-limits.ts).
  RELAY_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_RELAY_LIMITS.maxSubscriptions),
  RELAY_MAX_FILTERS: z.coerce.number().int().min(1).max(100).default(DEFAULT_RELAY_LIMITS.maxFilters),
  RELAY_MAX_LIMIT: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_RELAY_LIMITS.maxLimit),
  RELAY_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_RELAY_LIMITS.maxMessageBytes),
  RELAY_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(DEFAULT_RELAY_LIMITS.maxConnectionsPerAddress),
});

export type Config = {
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** auto: pretty text when stderr is a terminal, JSON otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  host: string;
  port: number;
  subclawBases: string[];
  maxEventBytes: number;
  maxFutureSeconds: number;
  /** undefined: one worker per available core. */
  verifyWorkers: number | undefined;
  /** secp256k1 build: native libsecp256k1 when built, else WASM (`auto`), or one of them. */
  verifyBackend: VerifyBackendChoice;
  writeBatchSize: number;
  /** Default `ai` filter of feeds: all, only (AI-authored posts), exclude. */
  feedAiDefault: 'all' | 'only' | 'exclude';
  /** Allowed CORS origins; ['*'] allows any. */
  corsOrigins: string[];
  /** Reads need a token too (the control plane always does). */
  readsRequireToken: boolean;
  /** Cache-Control max-age of successful reads, in seconds (0: no-cache). */
  readCacheSeconds: number;
  /** Memory budget of the in-process response cache of public reads, in bytes (0: off). */
  responseCacheBytes: number;
  /** Longest an entry of the response cache is served, even with no write since (time-ranked pages). */
  responseCacheMaxAgeSeconds: number;
  /** Dimension of every control-plane embedding (knowledge, messages). */
  vectorDimension: number;
  /** Failed authentications allowed per client address within the window before 429s. */
  authFailureLimit: number;
  authFailureWindowSeconds: number;
  /** Take the client address from X-Forwarded-For (behind a reverse proxy) for auth rate limiting. */
  /** Reverse proxies in front of this process, each appending one X-Forwarded-For hop (0: use the socket peer). */
  trustProxy: number;
  /** After SIGTERM, how long open HTTP connections may finish before they are closed. */
  shutdownGraceSeconds: number;
  /** Relay set and scopes to follow (JSON, see relays/default.json). */
  relaysFile: string;
  /** Daemon key for NIP-42 AUTH (hex or nsec); absent: never authenticates. */
  nostrSecretKey: string | undefined;
  maxFrameBytes: number;
  /** Largest NEG-MSG frame accepted while a NIP-77 session is open. */
  maxNegFrameBytes: number;
  /** Late-arrival settle windows as written: span/every pairs (coverage/settle-window.ts), or off. */
  settleWindows: string;
  ingestOverlapSeconds: number;
  ingestClockMarginSeconds: number;
  ingestInitialLookbackSeconds: number;
  fallbackAfterSeconds: number;
  handBackAfterSeconds: number;
  /** How often a daemon tries relays it does not own (bounds a takeover) and checks its own. */
  ingestOwnershipIntervalSeconds: number;
  /** Hole repairs running at once (each (relay, scope) one at a time). */
  ingestRepairConcurrency: number;
  /** A relay owner's lease: past it unrenewed, other daemons end its lock session and take its relays. */
  ingestLeaseSeconds: number;
  readyMaxLagSeconds: number;
  /** PGlite daemon: how often ANALYZE/VACUUM need is checked (0: never). */
  maintenanceIntervalSeconds: number;
  /** Limits of the NIP-01 relay endpoint (RELAY_* variables). */
  relayLimits: RelayLimits;
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
  const leaseSeconds = e.INGEST_LEASE_SECONDS ?? 2 * e.INGEST_OWNERSHIP_INTERVAL_SECONDS;
  // Renewed every interval: a lease no longer than one would lapse between renewals.
  if (leaseSeconds <= e.INGEST_OWNERSHIP_INTERVAL_SECONDS) {
    throw new ConfigError(
      `invalid configuration: INGEST_LEASE_SECONDS: must be more than INGEST_OWNERSHIP_INTERVAL_SECONDS (${e.INGEST_OWNERSHIP_INTERVAL_SECONDS}); twice it is the default`,
    );
  }
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.NOSTR_CACHE_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    host: e.HOST,
    port: e.PORT,
    subclawBases: e.SUBCLAW_BASES,
    maxEventBytes: e.MAX_EVENT_BYTES,
    maxFutureSeconds: e.MAX_FUTURE_SECONDS,
    verifyWorkers: e.VERIFY_WORKERS,
    verifyBackend: e.VERIFY_BACKEND,
    writeBatchSize: e.WRITE_BATCH_SIZE,
    feedAiDefault: e.FEED_AI_DEFAULT,
    corsOrigins: e.CORS_ORIGINS,
    readsRequireToken: e.READS_REQUIRE_TOKEN,
    readCacheSeconds: e.READ_CACHE_SECONDS,
    responseCacheBytes: Math.round(e.RESPONSE_CACHE_MB * 1024 * 1024),
    responseCacheMaxAgeSeconds: e.RESPONSE_CACHE_MAX_AGE_SECONDS,
    vectorDimension: e.VECTOR_DIMENSION,
    authFailureLimit: e.AUTH_FAILURE_LIMIT,
    authFailureWindowSeconds: e.AUTH_FAILURE_WINDOW_SECONDS,
    trustProxy: e.TRUST_PROXY,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    relaysFile: e.RELAYS_FILE,
    nostrSecretKey: e.NOSTR_SECRET_KEY,
    maxFrameBytes: e.MAX_FRAME_BYTES,
    maxNegFrameBytes: e.MAX_NEG_FRAME_BYTES,
    settleWindows: e.SETTLE_WINDOWS,
    ingestOverlapSeconds: e.INGEST_OVERLAP_SECONDS,
    ingestClockMarginSeconds: e.INGEST_CLOCK_MARGIN_SECONDS,
    ingestInitialLookbackSeconds: e.INGEST_INITIAL_LOOKBACK_SECONDS,
    fallbackAfterSeconds: e.FALLBACK_AFTER_SECONDS,
    handBackAfterSeconds: e.HANDBACK_AFTER_SECONDS,
    ingestOwnershipIntervalSeconds: e.INGEST_OWNERSHIP_INTERVAL_SECONDS,
    ingestRepairConcurrency: e.INGEST_REPAIR_CONCURRENCY,
    ingestLeaseSeconds: leaseSeconds,
    readyMaxLagSeconds: e.READY_MAX_LAG_SECONDS,
    maintenanceIntervalSeconds: e.MAINTENANCE_INTERVAL_SECONDS,
    relayLimits: {
      ...DEFAULT_RELAY_LIMITS,
      maxSubscriptions: e.RELAY_MAX_SUBSCRIPTIONS,
      maxFilters: e.RELAY_MAX_FILTERS,
      maxLimit: e.RELAY_MAX_LIMIT,
      maxMessageBytes: e.RELAY_MAX_MESSAGE_BYTES,
      maxConnectionsPerAddress: e.RELAY_MAX_CONNECTIONS_PER_ADDRESS,
    },
  };
}
