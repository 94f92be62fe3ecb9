/**
 * Containment for a postgres.js 3.4.9 bug (porsager/postgres#1199, fix proposed in #1155): after
 * the server terminates a backend (a restart, pg_terminate_backend), a query can be written to the
 * dead connection, and `socket.write` on its null socket throws from a timer, where no caller can
 * catch it, and would end the process.
 *
 * The guard recognises exactly that error (a TypeError reading 'write' of null, thrown from
 * postgres/src/connection.js), lets the owners replace their pools, and forwards every other
 * uncaught exception unchanged: to the process's 'uncaughtException' listeners if there are any
 * (test runners), else printed with exit code 1, as Node does by default. Remove it once the
 * dependency has the fix.
 */
const recoverers = new Set<() => void>();
let installed = false;

export function isPostgresJsNullSocketBug(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    /Cannot read properties of null \(reading 'write'\)/.test(error.message) &&
    /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? '')
  );
}

/**
 * A rejection postgres.js raises internally (with nobody awaiting it) when the server terminates
 * its connections: SQLSTATE 57P01-57P03 or a destroyed/closed connection.
 */
export function isPostgresJsTerminationNoise(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  const fromDriver = /postgres[\\/]src[\\/]/.test((error as Error)?.stack ?? '');
  return fromDriver && /^(57P0[1-3]|CONNECTION_DESTROYED|CONNECTION_CLOSED)$/.test(code);
}

/** Registers a pool owner's recovery; returns the unregister function. */
export function guardPostgresJs(recover: () => void): () => void {
  recoverers.add(recover);
  if (!installed && !process.hasUncaughtExceptionCaptureCallback()) {
    installed = true;
    process.on('unhandledRejection', (reason) => {
      if (isPostgresJsTerminationNoise(reason) || isPostgresJsNullSocketBug(reason)) {
        process.emitWarning(`postgres.js: ${(reason as Error).message} (connection terminated by the server; recovering)`);
        for (const r of recoverers) r();
        return;
      }
      // Anything else keeps Node's default: an unhandled rejection is an uncaught error.
      throw reason;
    });
    process.setUncaughtExceptionCaptureCallback((error) => {
      if (isPostgresJsNullSocketBug(error)) {
        process.emitWarning('postgres.js wrote to a terminated connection (porsager/postgres#1199); replacing pools');
        for (const r of recoverers) r();
        return;
      }
      if (process.listenerCount('uncaughtException') > 0) {
        (process.emit as (event: string, ...args: unknown[]) => boolean)('uncaughtException', error, 'uncaughtException');
        return;
      }
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    });
  }
  return () => recoverers.delete(recover);
}
