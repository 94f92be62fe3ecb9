/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with
 * labels, plus collectors run at scrape time (e.g. database pool state). Any module may register
 * its metrics on the registry it is handed (the API's HTTP metrics, later the ingest counters); a
 * name registered twice returns the same metric, so re-registration is harmless.
 */

type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const entries = Object.entries(labels);
  if (extra) entries.push(extra);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function keyOf(labels: Labels): string {
  // Unlabelled series are the hot case (one observation per live EVENT sent): no allocation.
  if (Object.keys(labels).length === 0) return '[]';
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  lines(): string[];
}

class Series<V> {
  protected readonly series = new Map<string, { labels: Labels; value: V }>();
  protected entry(labels: Labels, init: () => V): { labels: Labels; value: V } {
    const key = keyOf(labels);
    let e = this.series.get(key);
    if (!e) {
      e = { labels: { ...labels }, value: init() };
      this.series.set(key, e);
    }
    return e;
  }
}

export class Counter extends Series<number> implements Metric {
  readonly type = 'counter' as const;
  constructor(readonly name: string, readonly help: string) {
    super();
  }
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease`);
    this.entry(labels, () => 0).value += by;
  }
  get(labels: Labels = {}): number {
    return this.series.get(keyOf(labels))?.value ?? 0;
  }
  lines(): string[] {
    return [...this.series.values()].map((e) => `${this.name}${labelText(e.labels)} ${formatNumber(e.value)}`);
  }
}

export class Gauge extends Series<number> implements Metric {
  readonly type = 'gauge' as const;
  constructor(readonly name: string, readonly help: string) {
    super();
  }
  set(labels: Labels, value: number): void {
    this.entry(labels, () => 0).value = value;
  }
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => 0).value += by;
  }
  dec(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => 0).value -= by;
  }
  /** Drops every series (collectors that rebuild their set at each scrape). */
  reset(): void {
    this.series.clear();
  }
  lines(): string[] {
    return [...this.series.values()].map((e) => `${this.name}${labelText(e.labels)} ${formatNumber(e.value)}`);
  }
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Series<HistogramValue> implements Metric {
  readonly type = 'histogram' as const;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {
    super();
  }
  observe(labels: Labels, value: number): void {
    const e = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).value;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) e.counts[i]!++;
    e.sum += value;
    e.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const { labels, value } of this.series.values()) {
      this.buckets.forEach((le, i) => out.push(`${this.name}_bucket${labelText(labels, ['le', formatNumber(le)])} ${value.counts[i]}`));
      out.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${value.count}`);
      out.push(`${this.name}_sum${labelText(labels)} ${formatNumber(value.sum)}`);
      out.push(`${this.name}_count${labelText(labels)} ${value.count}`);
    }
    return out;
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors: Array<() => Promise<void> | void> = [];

  private register<M extends Metric>(name: string, make: () => M, type: M['type']): M {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    const existing = this.metrics.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`metric ${name} already registered as a ${existing.type}`);
      return existing as M;
    }
    const metric = make();
    this.metrics.set(name, metric);
    return metric;
  }

  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help), 'counter');
  }

  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help), 'gauge');
  }

  histogram(name: string, help: string, buckets: number[]): Histogram {
    return this.register(name, () => new Histogram(name, help, [...buckets].sort((a, b) => a - b)), 'histogram');
  }

  /** Runs before every scrape (refreshes gauges that are read, not pushed). */
  addCollector(collect: () => Promise<void> | void): void {
    this.collectors.push(collect);
  }

  async render(): Promise<string> {
    for (const collect of this.collectors) {
      try {
        await collect();
      } catch {
        // A failing collector leaves its gauges as they were; the scrape still answers.
      }
    }
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      out.push(...m.lines());
    }
    return `${out.join('\n')}\n`;
  }
}

/** Latency buckets in seconds, from 0.5 ms to 10 s. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
