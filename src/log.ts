import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Structured logs on stderr, so stdout stays free for command output (reports, tokens): pino's
 * JSON lines, or, when stderr is a terminal (`auto`) or `pretty` is asked, the same records as
 * colourised one-line text by pino-pretty, written synchronously in this thread.
 */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  format: LogFormat = (process.env.LOG_FORMAT as LogFormat | undefined) ?? 'auto',
): Logger {
  const options = { level, base: { service: 'nostr-cache' } };
  if (format === 'pretty' || (format === 'auto' && process.stderr.isTTY)) {
    return pino(options, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' }));
  }
  return pino(options, pino.destination(2));
}
