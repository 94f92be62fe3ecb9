/**
 * Progress for long operations (import, backfill, rebuild): a redrawn line on a terminal, a
 * structured log line every few seconds otherwise, so service logs stay parseable.
 */
import type { Logger } from './log.js';

export interface ProgressSnapshot {
  done: number;
  total: number | null;
  unit: string;
}

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly log: Logger,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = stream.isTTY ? 200 : 5000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(snapshot: ProgressSnapshot, extra: Record<string, number> = {}, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = snapshot.done / seconds;
    const fraction = snapshot.total ? Math.min(snapshot.done / snapshot.total, 1) : null;
    const eta = fraction !== null && rate > 0 ? (snapshot.total! - snapshot.done) / rate : null;
    if (this.tty) {
      const width = 24;
      const bar = fraction === null ? '' : `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '-')}] ${(fraction * 100).toFixed(0).padStart(3)}% `;
      const details = Object.entries(extra).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join('  ');
      this.stream.write(
        `\r${this.label} ${bar}${formatCount(snapshot.done)} ${snapshot.unit}  ${formatCount(rate)}/s  ETA ${formatDuration(eta)}  ${details}\x1b[K`,
      );
    } else {
      this.log.info({ progress: this.label, ...snapshot, ratePerSecond: Math.round(rate), etaSeconds: eta === null ? null : Math.round(eta), ...extra }, 'progress');
    }
  }

  finish(): void {
    if (this.tty) this.stream.write('\n');
  }
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
