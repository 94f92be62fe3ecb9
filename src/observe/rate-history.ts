/**
 * Events stored per second over the last minutes, for the status page's chart: the ingest status's
 * `outcomes.accepted` counter sampled every `intervalMs`, the last `keep` samples kept.
 */
export interface RatePoint {
  /** End of the interval (ms since the epoch). */
  at: number;
  perSecond: number;
}

export class RateHistory {
  private readonly samples: Array<{ at: number; accepted: number }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly source: { report(): unknown },
    private readonly options: { intervalMs?: number; keep?: number; now?: () => number } = {},
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): void {
    const accepted = (this.source.report() as { outcomes?: { accepted?: unknown } } | null)?.outcomes?.accepted;
    if (typeof accepted !== 'number') return;
    this.samples.push({ at: (this.options.now ?? Date.now)(), accepted });
    while (this.samples.length > (this.options.keep ?? 91)) this.samples.shift(); // 15 minutes of 10 s
  }

  /** One point per interval between consecutive samples, oldest first. */
  points(): RatePoint[] {
    const points: RatePoint[] = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1]!;
      const b = this.samples[i]!;
      const seconds = (b.at - a.at) / 1000;
      points.push({ at: b.at, perSecond: seconds > 0 ? Math.round(((b.accepted - a.accepted) / seconds) * 10) / 10 : 0 });
    }
    return points;
  }
}
