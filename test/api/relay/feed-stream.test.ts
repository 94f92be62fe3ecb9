/**
 * GET /v1/feed/stream: server-sent events with the feed's filters. A new post of the subclaw
 * arrives as `post`, a reaction and a reply to it as `stats` with the new counts; posts of other
 * subclaws and non-posts never arrive.
 */
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizeOptions, NostrEvent } from '../../../src/nostr/types.js';
import { startCacheRelay, type CacheRelay } from '../../helpers/cache-relay.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { testNormalizeOptions, until, writeEvents } from '../helpers.js';
import { OTHER_SUBCLAW, SUBCLAW } from './world.js';

interface Sse {
  event: string;
  data: any;
}

/** Reads an SSE response into `events` until aborted. */
async function openStream(url: string): Promise<{ events: Sse[]; status: number; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
  const events: Sse[] = [];
  if (res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  return { events, status: res.status, close: () => abort.abort() };
}

describe.each(engines)('GET /v1/feed/stream on %s', (driver) => {
  let database: TestDatabase;
  let relay: CacheRelay;
  let options: NormalizeOptions;
  const sk = generateSecretKey();
  let clock = Math.floor(Date.now() / 1000) - 600;
  const sign = (kind: number, tags: string[][], content: string) =>
    finalizeEvent({ kind, created_at: ++clock, tags, content }, sk) as NostrEvent;
  const post = (subclaw: string, content: string) => sign(1111, [['I', subclaw], ['K', 'web'], ['i', subclaw], ['k', 'web']], content);

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    options = await testNormalizeOptions();
    relay = await startCacheRelay(database);
  });
  afterAll(async () => {
    await relay?.close();
    await database?.destroy();
  });

  it('sends new posts of the feed and their changed stats, nothing else', async () => {
    const stream = await openStream(`${relay.httpUrl}/v1/feed/stream?subclaw=relaytest`);
    try {
      expect(stream.status).toBe(200);
      // The stream listens once the response has started; give the handler its first tick.
      await until(() => relay.live.listenerCount >= 1, 'the stream listens');
      const elsewhere = post(OTHER_SUBCLAW, 'other subclaw');
      const mine = post(SUBCLAW, 'a post of this feed');
      await writeEvents(database, [elsewhere], options);
      await writeEvents(database, [mine], options);
      await until(() => stream.events.length >= 1, 'the post arrives');
      expect(stream.events[0]).toMatchObject({ event: 'post', data: { id: mine.id, subclaw: 'relaytest', stats: { up: 0, replies: 0 } } });

      await writeEvents(database, [sign(7, [['e', mine.id], ['p', mine.pubkey], ['k', '1111']], '+')], options);
      await until(() => stream.events.length >= 2, 'the stats change arrives');
      expect(stream.events[1]).toMatchObject({ event: 'stats', data: { id: mine.id, stats: { up: 1, replies: 0 } } });

      const reply = sign(1111, [['I', SUBCLAW], ['K', 'web'], ['e', mine.id, '', mine.pubkey], ['k', '1111'], ['p', mine.pubkey]], 'a reply');
      await writeEvents(database, [reply], options);
      await until(() => stream.events.length >= 3, 'the reply count arrives');
      expect(stream.events[2]).toMatchObject({ event: 'stats', data: { id: mine.id, stats: { up: 1, replies: 1 } } });
      // The reply is not a top-level post, the other subclaw's post is not in this feed.
      expect(stream.events.filter((e) => e.event === 'post').map((e) => e.data.id)).toEqual([mine.id]);
    } finally {
      stream.close();
    }
    await until(() => relay.live.listenerCount === 0, 'the stream stops listening when the client leaves');
  });

  it('refuses bad filters with 400', async () => {
    const res = await fetch(`${relay.httpUrl}/v1/feed/stream?ai=sometimes`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });
});
