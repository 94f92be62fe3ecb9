/**
 * The schedule of the hot snapshot (ranking.ts): a refresh at start and then every interval, in each
 * long-lived process. Processes sharing a database do not repeat each other's work: a refresh is
 * skipped while another holds the refresh lock or the newest snapshot is younger than the interval.
 */
import type { AppDatabase } from '../db/client.js';
import type { Logger } from '../log.js';
import { HOT_REFRESH_SECONDS, refreshHotRanking } from './ranking.js';

export interface HotRefreshSchedule {
  /** Stops the timer and waits for a refresh in flight. */
  stop(): Promise<void>;
}

export function startHotRefreshSchedule(
  db: AppDatabase,
  log: Logger,
  options: { intervalSeconds?: number; now?: () => number } = {},
): HotRefreshSchedule {
  const interval = options.intervalSeconds ?? HOT_REFRESH_SECONDS;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return; // a slow refresh is not stacked on
    const started = performance.now();
    // A second of slack, so a timer firing a little early still refreshes.
    running = refreshHotRanking(db, now(), { minAgeSeconds: interval - 1 })
      .then((result) => {
        if (result) log.info({ ...result, ms: Math.round(performance.now() - started) }, 'hot ranking refreshed');
      })
      .catch((error: unknown) => log.error({ err: error }, 'hot ranking refresh failed'))
      .finally(() => {
        running = null;
      });
  };
  tick();
  const timer = setInterval(tick, interval * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
