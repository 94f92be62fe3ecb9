/**
 * The daemon as a process, killed with SIGKILL mid-ingest and restarted: every event the relay
 * holds for the scope ends in the cache exactly once. On PGlite this also checks that the data
 * directory survives an abrupt kill.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { finalizeEvent } from 'nostr-tools/pure';
import { openDatabase, query } from '../../src/db/client.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { secretKeys } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { startTestRelay, type TestRelay } from '../helpers/relay.js';
import { ingestReport, startIngest } from '../helpers/daemon-process.js';
import { waitFor } from '../helpers/wait-for.js';

function comment(n: number, createdAt: number): NostrEvent {
  return finalizeEvent(
    {
      kind: 1111,
      created_at: createdAt,
      tags: [['I', 'https://clawstr.com/c/k'], ['K', 'web'], ['i', 'https://clawstr.com/c/k'], ['k', 'web']],
      content: `kill test ${n}`,
    },
    secretKeys[n % 2 ? 'alice' : 'bob'],
  ) as NostrEvent;
}

describe.each(engines)('daemon killed with SIGKILL on %s', (driver) => {
  let relay: TestRelay | null = null;
  let database: TestDatabase | null = null;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await relay?.close();
    await database?.destroy();
  });

  it('ends with every event the relay holds stored exactly once', async () => {
    relay = await startTestRelay();
    const now = Math.floor(Date.now() / 1000);
    const before = Array.from({ length: 3000 }, (_, i) => comment(i, now - 3000 + i));
    await relay.publish(before, { timeoutMs: 120_000 });
    const relays = join(mkdtempSync(join(tmpdir(), 'nc-kill-')), 'relays.json');
    writeFileSync(relays, JSON.stringify({ primaries: [relay.url], scopes: { comments: { filter: { kinds: [1111], '#K': ['web'] } } } }));
    let dataEnv: Record<string, string>;
    let dataDir = '';
    if (driver === 'postgres') {
      database = await createTestDatabase('postgres');
      dataEnv = { DATABASE_URL: database.url! };
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'nc-kill-data-'));
      dataEnv = { NOSTR_CACHE_DATA_DIR: dataDir };
    }
    const env = {
      ...dataEnv,
      RELAYS_FILE: relays,
      INGEST_INITIAL_LOOKBACK_SECONDS: '7200',
      INGEST_CLOCK_MARGIN_SECONDS: '0',
      WRITE_BATCH_SIZE: '100',
      VERIFY_WORKERS: '1',
    };

    // The relay stops the first daemon's stream after 1,000 events, so the kill lands mid-ingest
    // however fast the daemon is (a fast one used to have all 3,000 committed before the kill).
    const hold = relay.holdDelivery(1000);
    const first = await startIngest(env);
    children.push(first.child);
    await waitFor(async () => ((await ingestReport(first))?.outcomes.accepted ?? 0) > 0, 'first commits');
    first.child.kill('SIGKILL');
    await first.exited;
    hold.release();
    // What survived the kill: some events, not all of them (the kill landed mid-ingest).
    const killed = driver === 'postgres' ? database! : await openDatabase({ dataDir });
    try {
      const [row] = await query<{ n: string | number }>(killed.db, sql`SELECT count(*) AS n FROM nostr_events`);
      expect(Number(row?.n)).toBeGreaterThan(0);
      expect(Number(row?.n)).toBeLessThan(before.length);
    } finally {
      if (driver === 'pglite') await killed.close();
    }

    const afterAt = Math.floor(Date.now() / 1000);
    const after = Array.from({ length: 200 }, (_, i) => comment(10_000 + i, afterAt));
    await relay.publish(after, { timeoutMs: 60_000 });

    const second = await startIngest(env);
    children.push(second.child);
    // Coverage reaching past the last publish proves everything before it is committed.
    await waitFor(async () => {
      const report = await ingestReport(second);
      const covered = report?.scopes[0]?.coveredUntil ?? null;
      return covered !== null && covered >= afterAt;
    }, 'coverage after restart');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const check = driver === 'postgres' ? database! : await openDatabase({ dataDir });
    try {
      const rows = await query<{ event_id: string }>(check.db, sql`SELECT event_id FROM nostr_events WHERE kind = 1111`);
      const ids = rows.map((r) => r.event_id);
      expect(new Set(ids).size).toBe(ids.length);
      const held = (await relay.storedEvents()).filter((e) => e.kind === 1111).map((e) => e.id).sort();
      expect(held.length).toBe(before.length + after.length);
      expect(ids.sort()).toEqual(held);
    } finally {
      if (driver === 'pglite') await check.close();
    }
    // Two daemon processes and 3,200 published events: allow for a loaded CI machine.
  }, 300_000);
});
