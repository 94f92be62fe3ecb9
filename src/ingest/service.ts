/**
 * Starts live ingest for a runtime: the relay set from configuration, one RelayConnection per relay,
 * the shared pipeline and the daemon; and reports its health. Used by `start` and `ingest`.
 */
import { resolve } from 'node:path';
import { decode } from 'nostr-tools/nip19';
import { makeAuthEvent } from 'nostr-tools/nip42';
import { finalizeEvent } from 'nostr-tools/pure';
import { ConfigError } from '../config.js';
import type { Runtime } from '../runtime.js';
import { parseSettleWindows, type SettleWindow } from './coverage/settle-window.js';
import type { NostrEvent } from '../nostr/types.js';
import { BackfillJobs, type BackfillJob } from './coverage/backfill-jobs.js';
import type { LearnedCapabilities } from './fleet/capabilities.js';
import { IngestDaemon, type ScopeHealth } from './fleet/daemon.js';
import type { SwitchRecord } from './fleet/fallback.js';
import type { OwnershipReport } from './fleet/ownership.js';
import type { OutcomeCounts } from './pipeline/outcomes.js';
import type { IngestPipeline } from './pipeline/pipeline.js';
import { RelayConnection, type AuthSigner, type RelayState } from './relay/connection.js';
import { loadRelaySet, type RelaySet } from './fleet/relay-set.js';

export interface IngestReport {
  running: boolean;
  startedAt: string;
  relays: RelayState[];
  scopes: ScopeHealth[];
  switches: SwitchRecord[];
  repairs: ReturnType<IngestDaemon['health']>['repairs'];
  /** The last settle-window re-checks (late arrivals). */
  settle: ReturnType<IngestDaemon['health']>['settle'];
  /** Which relays this daemon owns and which other daemons own (shared Postgres). */
  ownership: OwnershipReport;
  /** Per relay: what is known of its behaviour (relays.learned). */
  learned: Record<string, LearnedCapabilities>;
  queue: { buffered: number; pendingBatches: number };
  /** Signature verification: backend (native or wasm) and worker pool load. */
  verification: IngestPipeline['verification'];
  outcomes: OutcomeCounts;
  /** Frames rejected by the relay connections, by reason, summed over relays. */
  frameRejects: Record<string, number>;
  eventsPerSecond: { lastMinute: number; sinceStart: number };
  backfillJobs: BackfillJob[];
}

export interface ReadinessProblem {
  scope?: string;
  relay?: string;
  problem: string;
}

export class IngestService {
  private readonly startedAt = Date.now();
  private readonly samples: Array<{ at: number; accepted: number }> = [];
  private readonly sampler: NodeJS.Timeout;

  constructor(
    readonly daemon: IngestDaemon,
    readonly pipeline: IngestPipeline,
    readonly relaySet: RelaySet,
    readonly backfill: BackfillJobs,
  ) {
    this.sampler = setInterval(() => this.sample(), 5000);
    this.sampler.unref();
    this.sample();
  }

  private sample(): void {
    this.samples.push({ at: Date.now(), accepted: this.pipeline.counts.accepted });
    while (this.samples.length > 13) this.samples.shift(); // one minute of 5 s samples
  }

  report(): IngestReport {
    const health = this.daemon.health();
    const frameRejects: Record<string, number> = {};
    for (const relay of health.relays) {
      for (const [reason, n] of Object.entries(relay.rejects)) if (n > 0) frameRejects[reason] = (frameRejects[reason] ?? 0) + n;
    }
    const first = this.samples[0];
    const nowAccepted = this.pipeline.counts.accepted;
    const window = first ? (Date.now() - first.at) / 1000 : 0;
    return {
      running: true,
      startedAt: new Date(this.startedAt).toISOString(),
      relays: health.relays,
      scopes: health.scopes,
      switches: health.switches,
      repairs: health.repairs,
      settle: health.settle,
      ownership: health.ownership,
      learned: health.learned,
      queue: this.pipeline.depth,
      verification: this.pipeline.verification,
      outcomes: this.pipeline.counts,
      frameRejects,
      eventsPerSecond: {
        lastMinute: first && window > 0 ? Math.round((nowAccepted - first.accepted) / window) : 0,
        sinceStart: Math.round(nowAccepted / Math.max((Date.now() - this.startedAt) / 1000, 1)),
      },
      backfillJobs: this.backfill.list(),
    };
  }

  /** Each scope served by a connected relay with its lag under the bound. */
  readiness(maxLagSeconds: number): ReadinessProblem[] {
    const problems: ReadinessProblem[] = [];
    for (const scope of this.daemon.health().scopes) {
      if (scope.servedBy.length === 0 && scope.servedElsewhere.length === 0) {
        problems.push({ scope: scope.scope, problem: 'no connected relay is serving this scope (here or in another daemon)' });
      } else if (scope.batched) continue;
      else if (scope.lagSeconds === null) problems.push({ scope: scope.scope, problem: 'no coverage recorded yet' });
      else if (scope.lagSeconds > maxLagSeconds) {
        problems.push({ scope: scope.scope, problem: `lag ${scope.lagSeconds}s exceeds ${maxLagSeconds}s` });
      }
      // A hole is seconds the cache cannot vouch for (a capped answer, a gap): not ready until proven.
      for (const [relay, holes] of Object.entries(scope.holes)) {
        if (holes.length === 0) continue;
        const seconds = holes.reduce((n, h) => n + h.until - h.since + 1, 0);
        problems.push({ scope: scope.scope, relay, problem: `${holes.length} coverage hole(s), ${seconds}s unproven (repair pending)` });
      }
    }
    return problems;
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    await this.daemon.stop();
  }
}

/** SETTLE_WINDOWS parsed; a bad one stops the start with a message naming the variable. */
export function settleWindowsOf(spec: string): SettleWindow[] {
  try {
    return parseSettleWindows(spec);
  } catch (error) {
    throw new ConfigError(`invalid configuration: SETTLE_WINDOWS: ${(error as Error).message}`);
  }
}

/** The NIP-42 signer for the configured daemon key, or null (never authenticate). */
export function authSignerFor(secretKey: string | undefined): AuthSigner | undefined {
  if (!secretKey) return undefined;
  const key = secretKey.startsWith('nsec1') ? (decode(secretKey as `nsec1${string}`).data as Uint8Array) : new Uint8Array(Buffer.from(secretKey, 'hex'));
  return (challenge, relayUrl) => finalizeEvent(makeAuthEvent(relayUrl, challenge), key) as NostrEvent;
}

export async function startIngest(runtime: Runtime): Promise<IngestService> {
  const { config, log } = runtime;
  const relaySet = loadRelaySet(resolve(config.relaysFile));
  const pipeline = await runtime.pipeline();
  const authSigner = authSignerFor(config.nostrSecretKey);
  const settleWindows = settleWindowsOf(config.settleWindows);
  const connect = (url: string) =>
    new RelayConnection({
      url,
      log: log.child({ relay: url }),
      maxFrameBytes: config.maxFrameBytes,
      maxNegFrameBytes: config.maxNegFrameBytes,
      takeKnownCopies: true,
      ...(authSigner ? { authSigner } : {}),
    });
  const daemon = new IngestDaemon({
    db: runtime.database.db,
    pipeline,
    relaySet,
    log,
    overlapSeconds: config.ingestOverlapSeconds,
    clockMarginSeconds: config.ingestClockMarginSeconds,
    initialLookbackSeconds: config.ingestInitialLookbackSeconds,
    fallbackAfterMs: config.fallbackAfterSeconds * 1000,
    handBackAfterMs: config.handBackAfterSeconds * 1000,
    ownershipIntervalMs: config.ingestOwnershipIntervalSeconds * 1000,
    repairConcurrency: config.ingestRepairConcurrency,
    // One process on PGlite: nobody to take over from, so no lease.
    leaseSeconds: runtime.database.driver === 'postgres' ? config.ingestLeaseSeconds : 0,
    settleWindows,
    openLockSession: () => runtime.database.session(),
    connect,
  });
  await daemon.start();
  const backfill = new BackfillJobs({
    db: runtime.database.db,
    pipeline,
    relaySet,
    log,
    connect: (url) => {
      const shared = daemon.connectionTo(url);
      if (shared) return { connection: shared, release: async () => {} };
      const own = connect(url);
      own.start();
      return { connection: own, release: () => own.stop() };
    },
  });
  const { owned, ownedElsewhere } = daemon.health().ownership;
  log.info(
    { relays: relaySet.primaries.length, fallbacks: relaySet.fallbacks.length, scopes: Object.keys(relaySet.scopes), owned, ownedElsewhere },
    'ingest started',
  );
  return new IngestService(daemon, pipeline, relaySet, backfill);
}
