/**
 * The response cache in the running API: what is served from memory, when it stops being served
 * (a write committed here, through another handle, or by another process; the notification channel
 * down), and what it never does (skip the token check, cache the control plane, exceed its budget).
 * Waits poll until the awaited state is observed; nothing is asserted on timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { npubEncode, noteEncode } from 'nostr-tools/nip19';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import type { LiveResponseCache } from '../../src/api/live-response-cache.js';
import { createToken } from '../../src/control/tokens.js';
import { openDatabase, query, type Database, type Driver } from '../../src/db/client.js';
import type { NormalizeOptions, NostrEvent } from '../../src/nostr/types.js';
import { handBuiltEvents, sign, T0, world } from '../fixtures/hand-built.js';
import { adminUrl, createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { freePort } from '../helpers/daemon-process.js';
import { cachedTestApp, call, testNormalizeOptions, until, writeEvents, type Reply } from './helpers.js';

const root = resolve(import.meta.dirname, '../..');
let serial = 0;

/** A new top-level post, newer than everything in the hand-built world (first in /v1/feed). */
function newPost(): NostrEvent {
  const url = 'https://clawstr.com/c/cachetest';
  serial++;
  return sign('carol', {
    kind: 1111,
    created_at: T0 + 1_000_000 + serial,
    tags: [['I', url], ['K', 'web'], ['i', url], ['k', 'web']],
    content: `post ${serial} written while a page was cached`,
  });
}

const xCache = (r: Reply | Response) => r.headers.get('x-cache');
const firstId = (r: Reply) => r.body.items[0]?.id as string | undefined;

/**
 * Requests `paths` in order and returns the replies, once the last was a cache hit. A miss is
 * excused only by an invalidation seen meanwhile (a channel blip on a loaded machine); then it tries
 * again.
 */
async function lastServedFromCache(app: ApiApp, live: LiveResponseCache, paths: string[], init?: RequestInit): Promise<Reply[]> {
  for (let attempt = 0; ; attempt++) {
    const before = live.cache.stats().invalidations;
    const replies: Reply[] = [];
    for (const path of paths) replies.push(await call(app, path, init));
    if (xCache(replies[replies.length - 1]!) === 'HIT') return replies;
    if (live.cache.stats().invalidations === before || attempt === 5) {
      throw new Error(`${paths.at(-1)} was ${xCache(replies.at(-1)!)} with no invalidation in between`);
    }
  }
}

/** Writes a new post and waits until /v1/feed serves it first; then it must stay there, cached. */
async function expectFreshAfter(app: ApiApp, live: LiveResponseCache, write: (post: NostrEvent) => Promise<void>): Promise<NostrEvent> {
  const post = newPost();
  await write(post);
  await until(async () => firstId(await call(app, '/v1/feed')) === post.id, 'the new post is served');
  for (let i = 0; i < 5; i++) {
    const r = await call(app, '/v1/feed');
    expect(firstId(r)).toBe(post.id);
  }
  const [cached] = await lastServedFromCache(app, live, ['/v1/feed']);
  expect(firstId(cached!)).toBe(post.id);
  return post;
}

/** Invalidations by writes heard: all of them but those of the channel going down or up (blips). */
const writesHeard = (live: LiveResponseCache) => live.cache.stats().invalidations - live.cache.stats().channelChanges;

/** A database holding the hand-built world and a cached API over it, for one describe block. */
function withCachedWorld(driver: Driver) {
  const ctx = {} as { database: TestDatabase; options: NormalizeOptions; app: ApiApp; live: LiveResponseCache };
  beforeAll(async () => {
    ctx.database = await createTestDatabase(driver);
    ctx.options = await testNormalizeOptions();
    await writeEvents(ctx.database, handBuiltEvents, ctx.options, 100);
    Object.assign(ctx, await cachedTestApp(ctx.database));
  });
  afterAll(async () => {
    await ctx.live?.close();
    await ctx.database?.destroy();
  });
  return ctx;
}

describe.each(engines)('response cache on %s', (driver) => {
  const ctx = withCachedWorld(driver);

  it('serves a repeated read from memory, and equivalent requests share one entry', async () => {
    const [first, second] = await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed', '/v1/feed']);
    expect(xCache(first!)).toMatch(/^(MISS|HIT)$/);
    expect(second!.body).toEqual(first!.body);
    expect(second!.headers.get('etag')).toBe(first!.headers.get('etag'));
    // Defaults spelled out, parameters reordered: the same page, so the same entry.
    await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed', '/v1/feed?sort=new&ai=all&limit=50']);
    const author = world.posts.aiTopLevel.pubkey;
    await lastServedFromCache(ctx.app, ctx.live, [`/v1/authors/${author}/posts`, `/v1/authors/${npubEncode(author)}/posts`]);
    const id = world.posts.aiTopLevel.id;
    const [byHex, byNote] = await lastServedFromCache(ctx.app, ctx.live, [`/v1/events/${id}`, `/v1/events/${noteEncode(id)}`]);
    expect(byNote!.body).toEqual(byHex!.body);
    for (const path of ['/v1/subclaws', '/v1/communities', `/v1/events/${id}/thread`, `/v1/events/${id}/reactions`, `/v1/profiles/${author}`]) {
      await lastServedFromCache(ctx.app, ctx.live, [path, path]);
    }
  });

  it('answers If-None-Match with a 304 from the cached ETag', async () => {
    const [, cached] = await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed?limit=7', '/v1/feed?limit=7']);
    const tag = cached!.headers.get('etag')!;
    expect(tag).toMatch(/^W\/"[0-9a-f]{40}"$/);
    const [revalidated] = await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed?limit=7'], { headers: { 'If-None-Match': tag } });
    expect(revalidated!.status).toBe(304);
    expect(revalidated!.body).toBe('');
    expect(revalidated!.headers.get('etag')).toBe(tag);
    expect(revalidated!.headers.get('cache-control')).toBe('public, max-age=5');
    const other = await call(ctx.app, '/v1/feed?limit=7', { headers: { 'If-None-Match': 'W/"other"' } });
    expect(other.status).toBe(200);
  });

  it('errors are not cached', async () => {
    const missing = `/v1/events/${'e'.repeat(64)}`;
    for (let i = 0; i < 2; i++) {
      const r = await call(ctx.app, missing);
      expect(r.status).toBe(404);
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    expect((await call(ctx.app, '/v1/feed?limit=1000')).status).toBe(400);
  });

  it('a write committed in this process invalidates: the new post is served, never the old page', async () => {
    await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed', '/v1/feed']);
    await expectFreshAfter(ctx.app, ctx.live, (post) => writeEvents(ctx.database, [post], ctx.options));
  });

  it('a batch that stores nothing new sends no invalidation', async () => {
    await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed', '/v1/feed']);
    const before = writesHeard(ctx.live);
    await writeEvents(ctx.database, [world.posts.aiTopLevel], ctx.options);
    // Notifications arrive in commit order: once the real write's has, the repeat's would have too.
    await expectFreshAfter(ctx.app, ctx.live, (post) => writeEvents(ctx.database, [post], ctx.options));
    expect(writesHeard(ctx.live) - before).toBe(1);
  });

  it('with READS_REQUIRE_TOKEN the token is checked on every request, cached or not', async () => {
    const locked = await cachedTestApp(ctx.database, { READS_REQUIRE_TOKEN: 'true' });
    try {
      const { token } = await createToken(ctx.database.db, { userId: 'cache-reader' });
      const auth = { headers: { Authorization: `Bearer ${token}` } };
      const [, hit] = await lastServedFromCache(locked.app, locked.live, ['/v1/feed', '/v1/feed'], auth);
      expect(hit!.headers.get('cache-control')).toBe('private, max-age=5');
      const anonymous = await call(locked.app, '/v1/feed');
      expect(anonymous.status).toBe(401);
      expect(xCache(anonymous)).toBeNull();
      const revalidate = await call(locked.app, '/v1/feed', { headers: { 'If-None-Match': hit!.headers.get('etag')! } });
      expect(revalidate.status).toBe(401);
    } finally {
      await locked.live.close();
    }
  });

  it('the control plane never goes through the cache', async () => {
    const { token } = await createToken(ctx.database.db, { userId: 'cache-user' });
    const me = await call(ctx.app, '/v1/me', { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(xCache(me)).toBeNull();
    expect(me.headers.get('cache-control') ?? '').not.toContain('public');
  });

  it('stays within RESPONSE_CACHE_MB, evicting the least recently used', async () => {
    const small = await cachedTestApp(ctx.database, { RESPONSE_CACHE_MB: '0.02' });
    try {
      const budget = Math.round(0.02 * 1024 * 1024);
      // Many small distinct answers: every stored event, and its reactions.
      for (const event of handBuiltEvents) {
        for (const path of [`/v1/events/${event.id}`, `/v1/events/${event.id}/reactions`]) {
          expect((await call(small.app, path)).status).toBeLessThan(500);
          expect(small.live.cache.stats().bytes).toBeLessThanOrEqual(budget);
        }
      }
      const stats = small.live.cache.stats();
      expect(stats.evictions).toBeGreaterThan(0);
      expect(stats.entries).toBeGreaterThan(0);
    } finally {
      await small.live.close();
    }
  });

  it('RESPONSE_CACHE_MB=0 turns it off', async () => {
    const off = await cachedTestApp(ctx.database, { RESPONSE_CACHE_MB: '0' });
    for (let i = 0; i < 2; i++) expect(xCache(await call(off.app, '/v1/feed'))).toBe('BYPASS');
    await off.live.close();
  });
});

describe.each(engines.filter((d) => d === 'postgres'))('response cache across connections and processes on %s', (driver) => {
  const ctx = withCachedWorld(driver);

  it('a write through another database handle invalidates (NOTIFY on commit)', async () => {
    const other: Database = await openDatabase({ url: ctx.database.url!, maxConnections: 1 });
    try {
      await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed', '/v1/feed']);
      await expectFreshAfter(ctx.app, ctx.live, (post) => writeEvents(other, [post], ctx.options));
    } finally {
      await other.close();
    }
  });

  it('a separate `serve` process hears writes committed by this one', async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: ctx.database.url!, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        return { status: res.status, headers: res.headers, body: (await res.json()) as any };
      };
      const reachable = async () => get('/v1/feed').catch(() => null);
      await until(async () => xCache((await reachable()) ?? new Response()) === 'HIT', 'the serve process caches the feed', 60_000);
      const post = newPost();
      await writeEvents(ctx.database, [post], ctx.options);
      await until(async () => (await get('/v1/feed')).body.items[0]?.id === post.id, 'the serve process serves the new post');
      for (let i = 0; i < 3; i++) expect((await get('/v1/feed')).body.items[0]?.id).toBe(post.id);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
  });

  it('while the notification channel is down every read bypasses the cache; once back, nothing stale is served', async () => {
    await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed', '/v1/feed']);
    const [{ name }] = (await query<{ name: string }>(ctx.database.db, sql`SELECT current_database() AS name`)) as [{ name: string }];
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    let post: NostrEvent | undefined;
    try {
      // Cut the listener and keep it from reconnecting; the API's pool keeps its open connection.
      await admin.unsafe(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'nostr-cache-listen'`, [name]);
      await until(async () => xCache(await call(ctx.app, '/v1/feed')) === 'BYPASS', 'reads bypass the cache');
      expect(ctx.live.listening).toBe(false);
      post = newPost();
      await writeEvents(ctx.database, [post], ctx.options);
      for (let i = 0; i < 3; i++) {
        const r = await call(ctx.app, '/v1/feed');
        expect(xCache(r)).toBe('BYPASS');
        expect(firstId(r)).toBe(post.id);
      }
    } finally {
      await admin.unsafe(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    await until(() => ctx.live.listening, 'the listener is back');
    const [, hit] = await lastServedFromCache(ctx.app, ctx.live, ['/v1/feed', '/v1/feed']);
    expect(firstId(hit!)).toBe(post.id);
  });
});
