/**
 * Log lines an operator reads, derived from the ingest status the daemon already exposes (what
 * /health/ingest serves), so ingest itself needs no logging hooks:
 *
 * - a warning when a relay fails to connect: the first failure of a streak at once, then at most
 *   one per `repeatWarningMs` while it keeps failing (with the failures since the last warning);
 * - an info line when a relay that was failing is connected again (how long it was down);
 * - one summary line per `summaryMs`: events stored since the last summary, rate, relays
 *   connected, holes and the worst lag.
 *
 * The status is sampled every `sampleMs`. `transitions` and `summarize` are pure; the reporter
 * only keeps the previous sample and the clock.
 */
import type { Logger } from '../log.js';

/** The parts of the ingest report this module reads (structural: ingest's types may move). */
export interface RelayView {
  url: string;
  status: string;
  failures: number;
  consecutiveFailures: number;
  nextAttemptAt: number | null;
  lastError: string | null;
}

export interface ScopeView {
  scope: string;
  batched: boolean;
  lagSeconds: number | null;
  holes: Record<string, Array<unknown>>;
}

export interface IngestView {
  relays: RelayView[];
  scopes: ScopeView[];
  outcomes: { accepted: number };
}

export interface LogLine {
  level: 'warn' | 'info';
  msg: string;
  fields: Record<string, unknown>;
}

/** Per relay: since when it has been failing, and when its failure was last logged. */
export interface RelayMemory {
  failingSince: number | null;
  lastWarnedAt: number | null;
  /** The relay's failure count before the streak, and at the last warning. */
  failuresBefore: number;
  failuresAtLastWarning: number;
}

const fresh = (): RelayMemory => ({ failingSince: null, lastWarnedAt: null, failuresBefore: 0, failuresAtLastWarning: 0 });

/** The log lines for one relay between two samples, and what to remember (pure). */
export function transitions(
  previous: RelayView | undefined,
  current: RelayView,
  memory: RelayMemory = fresh(),
  now: number,
  repeatWarningMs: number,
): { lines: LogLine[]; memory: RelayMemory } {
  const lines: LogLine[] = [];
  const next = { ...memory };
  const failedSince = current.failures > (previous?.failures ?? 0);
  const failingNow = current.status !== 'connected' && current.consecutiveFailures > 0;
  const retryInSeconds = current.nextAttemptAt === null ? null : Math.max(0, Math.round((current.nextAttemptAt - now) / 1000));
  if ((failedSince || failingNow) && next.failingSince === null) {
    next.failingSince = now;
    next.lastWarnedAt = now;
    next.failuresBefore = previous?.failures ?? 0;
    next.failuresAtLastWarning = current.failures;
    lines.push({
      level: 'warn',
      msg: 'relay failed to connect',
      fields: { relay: current.url, error: current.lastError, status: current.status, retryInSeconds },
    });
  } else if (failingNow && next.lastWarnedAt !== null && now - next.lastWarnedAt >= repeatWarningMs) {
    lines.push({
      level: 'warn',
      msg: 'relay still failing',
      fields: {
        relay: current.url,
        error: current.lastError,
        failuresSinceLastWarning: current.failures - next.failuresAtLastWarning,
        downSeconds: Math.round((now - (next.failingSince ?? now)) / 1000),
        retryInSeconds,
      },
    });
    next.lastWarnedAt = now;
    next.failuresAtLastWarning = current.failures;
  }
  // Connected again (possibly already by this sample, after failing in between): the streak ends.
  if (current.status === 'connected' && next.failingSince !== null) {
    lines.push({
      level: 'info',
      msg: 'relay recovered',
      fields: { relay: current.url, downSeconds: Math.round((now - next.failingSince) / 1000), failedAttempts: current.failures - next.failuresBefore },
    });
    return { lines, memory: fresh() };
  }
  return { lines, memory: next };
}

/** The once-a-minute summary line (pure). */
export function summarize(view: IngestView, acceptedBefore: number, seconds: number): LogLine {
  const live = view.scopes.filter((s) => !s.batched);
  const lags = live.map((s) => s.lagSeconds).filter((l): l is number => l !== null);
  const worst = live.reduce<ScopeView | null>((w, s) => ((s.lagSeconds ?? -1) > (w?.lagSeconds ?? -1) ? s : w), null);
  const holes = view.scopes.reduce((n, s) => n + Object.values(s.holes).reduce((m, list) => m + list.length, 0), 0);
  const stored = view.outcomes.accepted - acceptedBefore;
  return {
    level: 'info',
    msg: 'ingest summary',
    fields: {
      stored,
      eventsPerSecond: seconds > 0 ? Math.round((stored / seconds) * 10) / 10 : 0,
      relaysConnected: view.relays.filter((r) => r.status === 'connected').length,
      relays: view.relays.length,
      holes,
      maxLagSeconds: lags.length > 0 ? Math.max(...lags) : null,
      ...(worst && worst.lagSeconds !== null ? { laggingScope: worst.scope } : {}),
    },
  };
}

export interface IngestLogOptions {
  source: { report(): unknown };
  log: Logger;
  sampleMs?: number;
  summaryMs?: number;
  repeatWarningMs?: number;
  now?: () => number;
}

export class IngestLogReporter {
  private readonly relays = new Map<string, { view: RelayView; memory: RelayMemory }>();
  private sampler: NodeJS.Timeout | null = null;
  private summaries: NodeJS.Timeout | null = null;
  private lastSummary: { at: number; accepted: number } | null = null;
  private readonly now: () => number;

  constructor(private readonly options: IngestLogOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.sample();
    this.sampler = setInterval(() => this.sample(), this.options.sampleMs ?? 5000);
    this.summaries = setInterval(() => this.summary(), this.options.summaryMs ?? 60_000);
    this.sampler.unref();
    this.summaries.unref();
  }

  stop(): void {
    if (this.sampler) clearInterval(this.sampler);
    if (this.summaries) clearInterval(this.summaries);
    this.sampler = this.summaries = null;
  }

  /** Compares each relay with the previous sample and logs what changed. */
  sample(): void {
    const view = this.view();
    if (!view) return;
    const now = this.now();
    this.lastSummary ??= { at: now, accepted: view.outcomes.accepted };
    for (const relay of view.relays) {
      const known = this.relays.get(relay.url);
      const { lines, memory } = transitions(known?.view, relay, known?.memory, now, this.options.repeatWarningMs ?? 300_000);
      this.relays.set(relay.url, { view: relay, memory });
      for (const line of lines) this.write(line);
    }
  }

  /** Logs the summary of the period since the last one. */
  summary(): void {
    const view = this.view();
    if (!view) return;
    const now = this.now();
    const since = this.lastSummary ?? { at: now, accepted: view.outcomes.accepted };
    this.write(summarize(view, since.accepted, (now - since.at) / 1000));
    this.lastSummary = { at: now, accepted: view.outcomes.accepted };
  }

  private view(): IngestView | null {
    const report = this.options.source.report() as Partial<IngestView> | null;
    if (!report || !Array.isArray(report.relays) || !Array.isArray(report.scopes) || !report.outcomes) return null;
    return report as IngestView;
  }

  private write(line: LogLine): void {
    this.options.log[line.level](line.fields, line.msg);
  }
}
