/**
 * Reads are public by default; with READS_REQUIRE_TOKEN they need the same bearer token as the
 * control plane (src/api/auth.ts requireToken). Read route groups mount this on their own paths.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppDependencies } from '../app.js';
import { requireToken } from '../auth.js';

/** Puts requireToken in front of the given route patterns when READS_REQUIRE_TOKEN is set. */
export function guardReads(router: { use: (path: string, ...handlers: MiddlewareHandler[]) => unknown }, deps: AppDependencies, paths: string[]): void {
  if (!deps.config.readsRequireToken) return;
  const guard = requireToken(deps);
  for (const path of paths) router.use(path, guard);
}
