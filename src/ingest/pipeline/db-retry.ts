/**
 * The database retry: outages are waited out with a doubling delay, the batch in hand kept in memory
 * (readers stay paused meanwhile), so a restarted or unreachable server loses nothing. After
 * `maxAttempts` consecutive failures the error is thrown.
 */
import type { Logger } from '../../log.js';

export interface RetryOptions {
  /** Default 30 (~10 min). */
  maxAttempts?: number;
  /** First retry delay, doubled up to 30 s. Default 500 ms. */
  retryDelayMs?: number;
  /** An operation taking longer than this counts as failed and is retried. Default 120 s. */
  operationTimeoutMs?: number;
  /** Called with each error before a retry (Database.recover replaces a lost pool). */
  onDatabaseError?: (error: unknown) => Promise<unknown>;
  log?: Logger;
}

export async function retrying<T>(what: string, work: () => Promise<T>, options: RetryOptions, onRetry: () => void): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 30;
  let delay = options.retryDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(work(), options.operationTimeoutMs ?? 120_000, what);
    } catch (error) {
      if (attempt >= maxAttempts) throw error;
      onRetry();
      await options.onDatabaseError?.(error).catch(() => {});
      options.log?.warn({ err: error, attempt, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

/** Rejects if `promise` has not settled in `ms` (a query lost on a dead connection never settles). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'CONNECTION_CLOSED' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
