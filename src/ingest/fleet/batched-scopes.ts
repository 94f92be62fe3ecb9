/**
 * Batched scopes follow keys rather than time (recent post ids for their replies, recent authors):
 * the keys are re-read every `refreshSeconds` and split into REQ-sized batches; a scope whose keys
 * changed is resubscribed by the daemon. No time cursor, so no coverage.
 */
import type { AppDatabase } from '../../db/client.js';
import { recentAuthors, recentPostIds } from '../../store/ingest-reads.js';
import { unixSeconds, type Clock } from '../clock.js';
import type { Scope } from './relay-set.js';

interface BatchState {
  batches: string[][];
  /** The batches as JSON, to tell a change. */
  keys: string;
  /** Unix seconds. */
  refreshedAt: number;
}

export class BatchedScopes {
  private readonly state = new Map<string, BatchState>();

  constructor(
    private readonly db: AppDatabase,
    private readonly scopes: Record<string, Scope>,
    private readonly now: Clock,
  ) {}

  /** The batches in use for scope `name`, once read. */
  batchesOf(name: string): string[][] | undefined {
    return this.state.get(name)?.batches;
  }

  /** Reads the keys of every batched scope (at start). */
  async load(): Promise<void> {
    for (const [name, scope] of Object.entries(this.scopes)) {
      if (!scope.batch) continue;
      const batches = await this.keys(scope);
      this.state.set(name, { batches, keys: JSON.stringify(batches), refreshedAt: unixSeconds(this.now) });
    }
  }

  /** Re-reads the keys of scopes due (at `now`, unix seconds) and calls `changed` where they changed. */
  async refresh(now: number, changed: (name: string, scope: Scope, batches: string[][]) => Promise<void>): Promise<void> {
    for (const [name, scope] of Object.entries(this.scopes)) {
      if (!scope.batch) continue;
      const state = this.state.get(name);
      if (state && now - state.refreshedAt < scope.batch.refreshSeconds) continue;
      const batches = await this.keys(scope);
      const keys = JSON.stringify(batches);
      this.state.set(name, { batches, keys, refreshedAt: now });
      if (!state || state.keys === keys) continue;
      await changed(name, scope, batches);
    }
  }

  /** Keys for a batched scope (recent post ids or recent authors), split into REQ-sized batches. */
  async keys(scope: Scope): Promise<string[][]> {
    const batch = scope.batch!;
    const after = unixSeconds(this.now) - Math.round(batch.windowDays * 86_400);
    const limit = batch.size * 10;
    const keys = batch.source === 'recent_posts' ? await recentPostIds(this.db, after, limit) : await recentAuthors(this.db, after, limit);
    const out: string[][] = [];
    for (let i = 0; i < keys.length; i += batch.size) out.push(keys.slice(i, i + batch.size));
    return out;
  }
}
