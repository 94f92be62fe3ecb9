/**
 * Live subscriptions: after EOSE an open REQ receives events as their write batches commit, from
 * this process or another one (the `import` command in a child process, on Postgres), only those
 * matching its filters; a deletion reaches a kinds-5 subscription and the deleted event is not
 * served afterwards; a lost notification channel closes live subscriptions with a reason.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Filter } from 'nostr-tools/filter';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { NormalizeOptions, NostrEvent } from '../../../src/nostr/types.js';
import { startCacheRelay, type CacheRelay } from '../../helpers/cache-relay.js';
import { adminUrl, createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { testNormalizeOptions, until, writeEvents } from '../helpers.js';
import { OTHER_SUBCLAW, SUBCLAW } from './world.js';

useWebSocketImplementation(WebSocket);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const sk = generateSecretKey();
let clock = Math.floor(Date.now() / 1000) - 3600;

function post(subclaw: string, content: string): NostrEvent {
  clock += 1;
  return finalizeEvent({ kind: 1111, created_at: clock, tags: [['I', subclaw], ['K', 'web'], ['i', subclaw], ['k', 'web']], content }, sk) as NostrEvent;
}

/** An open subscription: stored events until EOSE, then live ones, and how it ended. */
async function openSubscription(url: string, filters: Filter[]) {
  const relay = await Relay.connect(url);
  const stored: string[] = [];
  const live: string[] = [];
  let eose = false;
  let closedReason: string | null = null;
  relay.subscribe(filters, {
    onevent: (e) => (eose ? live : stored).push(e.id),
    oneose: () => (eose = true),
    onclose: (reason) => (closedReason = reason),
  });
  await until(() => eose, 'EOSE');
  return { relay, stored, live, closedReason: () => closedReason };
}

describe.each(engines)('live subscriptions on %s', (driver) => {
  let database: TestDatabase;
  let relay: CacheRelay;
  let options: NormalizeOptions;
  const first = post(SUBCLAW, 'already stored');

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    options = await testNormalizeOptions();
    await writeEvents(database, [first], options);
    relay = await startCacheRelay(database);
  });
  afterAll(async () => {
    await relay?.close();
    await database?.destroy();
  });

  it('a committed event reaches the open subscription; a non-matching one does not', async () => {
    const sub = await openSubscription(relay.url, [{ kinds: [1111], '#I': [SUBCLAW] }]);
    try {
      expect(sub.stored).toEqual([first.id]);
      const elsewhere = post(OTHER_SUBCLAW, 'not for this subscription');
      const here = post(SUBCLAW, 'for this subscription');
      // Separate commits, in order: when `here` has arrived, `elsewhere` would have arrived before it.
      await writeEvents(database, [elsewhere], options);
      await writeEvents(database, [here], options);
      await until(() => sub.live.length > 0, 'the live event arrives');
      expect(sub.live).toEqual([here.id]);
      expect(await relay.metrics.render()).toMatch(/nostr_cache_relay_events_sent_total\{phase="live"\} [1-9]/);
    } finally {
      sub.relay.close();
    }
  });

  it('a deletion is delivered live, and the deleted event is not served afterwards', async () => {
    const target = post(SUBCLAW, 'to be deleted');
    await writeEvents(database, [target], options);
    const deletions = await openSubscription(relay.url, [{ kinds: [5] }]);
    try {
      const before = await openSubscription(relay.url, [{ ids: [target.id] }]);
      expect(before.stored).toEqual([target.id]);
      before.relay.close();
      clock += 1;
      const deletion = finalizeEvent({ kind: 5, created_at: clock, tags: [['e', target.id], ['k', '1111']], content: '' }, sk) as NostrEvent;
      await writeEvents(database, [deletion], options);
      await until(() => deletions.live.includes(deletion.id), 'the deletion arrives live');
      const after = await openSubscription(relay.url, [{ ids: [target.id] }, { kinds: [1111], '#I': [SUBCLAW] }]);
      expect(after.stored).not.toContain(target.id);
      expect(after.stored).toContain(first.id);
      after.relay.close();
    } finally {
      deletions.relay.close();
    }
  });
});

describe.each(engines.filter((d) => d === 'postgres'))('live subscriptions across processes on %s', (driver) => {
  let database: TestDatabase;
  let relay: CacheRelay;
  let options: NormalizeOptions;

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    options = await testNormalizeOptions();
    relay = await startCacheRelay(database);
  });
  afterAll(async () => {
    await relay?.close();
    await database?.destroy();
  });

  it('an event imported by another process reaches the open subscription', async () => {
    const sub = await openSubscription(relay.url, [{ kinds: [1111], '#I': [SUBCLAW] }]);
    const dir = await mkdtemp(join(tmpdir(), 'relay-live-'));
    try {
      const imported = [post(SUBCLAW, 'imported one'), post(SUBCLAW, 'imported two'), post(OTHER_SUBCLAW, 'imported elsewhere')];
      const file = join(dir, 'events.jsonl');
      await writeFile(file, imported.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'import', file], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: database.url!, LOG_LEVEL: 'warn', VERIFY_WORKERS: '0' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      await until(() => sub.live.length >= 2, 'the imported events arrive');
      expect(new Set(sub.live)).toEqual(new Set([imported[0]!.id, imported[1]!.id]));
    } finally {
      sub.relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a lost notification channel closes live subscriptions with an error: reason', async () => {
    const sub = await openSubscription(relay.url, [{ kinds: [1111], '#I': [SUBCLAW] }]);
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      const name = new URL(database.url!).pathname.slice(1);
      await admin.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'nostr-cache-listen'`, [name]);
      await until(() => sub.closedReason(), 'the subscription is closed');
      expect(sub.closedReason()).toMatch(/^error: live events interrupted/);
      await until(() => relay.live.up, 'the channel is back');
      // Subscribing again works and goes live again.
      const again = await openSubscription(relay.url, [{ kinds: [1111], '#I': [SUBCLAW] }]);
      const next = post(SUBCLAW, 'after the interruption');
      await writeEvents(database, [next], options);
      await until(() => again.live.includes(next.id), 'live again');
      again.relay.close();
    } finally {
      sub.relay.close();
      await admin.end();
    }
  });
});
