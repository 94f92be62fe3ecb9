/**
 * The relay sends each event's JSON as the database builds it (store/queries/relay-filter.ts), not
 * re-serialised in JS: that text must parse back to exactly the event that was stored, whatever its
 * content and tags hold (quotes, backslashes, control characters, non-ASCII, emoji, JSON-looking
 * text), for stored answers and for live delivery, on both engines.
 */
import { finalizeEvent, generateSecretKey, verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { NormalizeOptions, NostrEvent } from '../../../src/nostr/types.js';
import { startCacheRelay, type CacheRelay } from '../../helpers/cache-relay.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { testNormalizeOptions, until, writeEvents } from '../helpers.js';

const sk = generateSecretKey();
const TRICKY = [
  'plain',
  'quotes " and \\ backslash \\" escaped',
  'lines\nand\ttabs\r\nand \u0001\u001f control',
  'ünïcödé 中文 עברית 🦞🏳️‍🌈',
  '{"id":"not really","tags":[["x"]]}',
  '\u2028 line separators \u2029 and </script>',
  '',
];
let clock = Math.floor(Date.now() / 1000) - 7200;

function event(content: string, i: number): NostrEvent {
  clock += 1;
  return finalizeEvent(
    { kind: 1, created_at: clock, tags: [['t', `json-${i}`], ['t', 'json-fidelity'], ['r', `https://x.test/?q="${content.slice(0, 8)}"&a=\\`], ['e', 'x', '', 'mention "quoted"']], content },
    sk,
  ) as NostrEvent;
}

/** Raw frames of one REQ: the EVENT payloads as received, until EOSE, then live ones. */
async function subscribe(url: string, filter: object) {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const stored: unknown[] = [];
  const live: unknown[] = [];
  let eose = false;
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as unknown[];
    if (frame[0] === 'EVENT') (eose ? live : stored).push(frame[2]);
    if (frame[0] === 'EOSE') eose = true;
  });
  ws.send(JSON.stringify(['REQ', 'json', filter]));
  await until(() => eose, 'EOSE');
  return { ws, stored, live };
}

describe.each(engines)('event JSON as sent on %s', (driver) => {
  let database: TestDatabase;
  let relay: CacheRelay;
  let options: NormalizeOptions;
  // Plain copies: finalizeEvent marks its result with a symbol that JSON never carries.
  const storedEvents = TRICKY.map(event);
  const plain = (es: NostrEvent[]) => es.map((e) => JSON.parse(JSON.stringify(e)) as NostrEvent);

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    options = await testNormalizeOptions();
    await writeEvents(database, storedEvents, options);
    relay = await startCacheRelay(database);
  });
  afterAll(async () => {
    await relay?.close();
    await database?.destroy();
  });

  it('stored and live events parse back to exactly the signed event', async () => {
    const sub = await subscribe(relay.url, { '#t': ['json-fidelity'] });
    const newestFirst = plain([...storedEvents].reverse());
    expect(sub.stored).toEqual(newestFirst);
    for (const e of sub.stored) expect(verifyEvent(e as NostrEvent)).toBe(true);

    const later = TRICKY.map((c, i) => event(`live ${c}`, i + 100));
    await writeEvents(database, later, options);
    await until(() => sub.live.length >= later.length, 'live events');
    expect(sub.live).toEqual(plain(later));
    for (const e of sub.live) expect(verifyEvent(e as NostrEvent)).toBe(true);
    sub.ws.close();
  });
});
