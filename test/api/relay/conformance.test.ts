/**
 * The read-side checks of a relay conformance suite (mikedilger/relay-tester: eose, find,
 * replaceables, delete), written anew as vitest against the cache's relay endpoint. The suite
 * publishes its events with EVENT; the cache is read-only, so they are written through the store's
 * one write path instead, then read back over NIP-01 with nostr-tools.
 *
 * Deliberate differences from relay-tester, as the cache's rules say:
 * - a replaced version is not available by id (the cache keeps only the newest version);
 * - an empty filter (relay-tester's "scrape") is refused with CLOSED `unsupported:` (no index).
 */
import type { Filter } from 'nostr-tools/filter';
import { matchFilter } from 'nostr-tools/filter';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { NormalizeOptions, NostrEvent } from '../../../src/nostr/types.js';
import { startCacheRelay, type CacheRelay } from '../../helpers/cache-relay.js';
import { createTestDatabase, engines, type TestDatabase } from '../../helpers/engines.js';
import { testNormalizeOptions, until, writeEvents } from '../helpers.js';
import { req } from './req.js';
import { servedEvents } from './world.js';

useWebSocketImplementation(WebSocket);

const now = Math.floor(Date.now() / 1000);
const minutesAgo = (m: number) => now - m * 60;
const registered = generateSecretKey();
const registered2 = generateSecretKey();
const stranger = generateSecretKey();
const registeredPk = getPublicKey(registered);
const strangerPk = getPublicKey(stranger);

function make(sk: Uint8Array, kind: number, tags: string[][], content: string, created_at = now): NostrEvent {
  return finalizeEvent({ kind, tags, content, created_at }, sk) as NostrEvent;
}

// Relay-tester's "event group A", by name.
const groupA = {
  limit_test_first: make(registered, 1, [['t', 'a']], 'limit_test_first', minutesAgo(40)),
  limit_test_third: make(registered, 1, [['t', 'a']], 'limit_test_third', minutesAgo(50)),
  limit_test_second: make(registered, 1, [['t', 'b']], 'limit_test_second', minutesAgo(45)),
  limit_test_fourth: make(registered, 1, [['t', 'b']], 'limit_test_fourth', minutesAgo(55)),
  metadata_older: make(registered, 0, [], '{"name":"older"}', minutesAgo(60)),
  metadata_newer: make(registered, 0, [], '{"name":"newer"}', minutesAgo(0)),
  contactlist_newer: make(registered, 3, [], 'contactlist_newer', minutesAgo(10)),
  contactlist_older: make(registered, 3, [], 'contactlist_older', minutesAgo(70)),
  ephemeral: make(registered, 21212, [], 'ephemeral', minutesAgo(10)),
  // Distinct d tags (relay-tester gives none): without them the two share one address and one replaces the other.
  multipletags: make(registered, 30383, [['d', 'm1'], ['k', '3036'], ['n', 'approved']], 'multipletags', minutesAgo(10)),
  multipletags_shouldntmatch: make(registered, 30383, [['d', 'm2'], ['n', 'approved']], 'multipletags_shouldntmatch', minutesAgo(10)),
  older_param_replaceable: make(registered, 30000, [['d', '1']], 'older_param_replaceable', minutesAgo(120)),
  newer_param_replaceable: make(registered, 30000, [['d', '1']], 'newer_param_replaceable', minutesAgo(60)),
  older_replaceable: make(registered, 10003, [['e', '65f07794c052916f434d2a40ad4e3c58c1c287d829b999977a7221c0ebadab0a']], 'older_replaceable', minutesAgo(80)),
  newer_replaceable: make(registered, 10003, [['e', '65f07794c052916f434d2a40ad4e3c58c1c287d829b999977a7221c0ebadab0a']], 'newer_replaceable', minutesAgo(60)),
  stranger_note: make(stranger, 1, [['p', registeredPk]], 'from a stranger', minutesAgo(30)),
};
const groupAEvents = Object.values(groupA);
const findable = servedEvents(groupAEvents, now);

describe.each(engines)('relay-tester read checks on %s', (driver) => {
  let database: TestDatabase;
  let relay: CacheRelay;
  let options: NormalizeOptions;

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    options = await testNormalizeOptions();
    // One event per batch, in the suite's order: replacement happens across commits, as on a relay.
    await writeEvents(database, groupAEvents, options, 1);
    relay = await startCacheRelay(database);
  });
  afterAll(async () => {
    await relay?.close();
    await database?.destroy();
  });

  /** relay-tester's `find`: everything returned matches, and every findable match is returned. */
  async function find(filter: Filter, expectedCount?: number): Promise<void> {
    const answer = await req(relay.url, [filter]);
    expect(answer.closed).toBeNull();
    for (const e of answer.events) expect(matchFilter(filter, e), `returned ${e.content} which does not match`).toBe(true);
    const matching = findable.filter((e) => matchFilter(filter, e));
    for (const e of matching) expect(answer.ids, `missing ${e.content}`).toContain(e.id);
    if (expectedCount !== undefined) expect(matching.length).toBe(expectedCount);
  }

  describe('eose', () => {
    it('supports EOSE (a filter with no match)', async () => {
      const answer = await req(relay.url, [{ authors: [getPublicKey(generateSecretKey())], kinds: [1], limit: 10 }]);
      expect(answer).toMatchObject({ ids: [], closed: null });
    });

    it('keeps an incomplete subscription open after EOSE: a later event still arrives', async () => {
      const author = generateSecretKey();
      const client = await Relay.connect(relay.url);
      const live: string[] = [];
      let eose = false;
      let closed: string | null = null;
      client.subscribe([{ authors: [getPublicKey(author)], kinds: [1], limit: 10 }], {
        onevent: (e) => live.push(e.id),
        oneose: () => (eose = true),
        onclose: (r) => (closed = r),
      });
      await until(() => eose, 'EOSE');
      const later = make(author, 1, [], 'after EOSE');
      await writeEvents(database, [later], options);
      await until(() => live.length > 0, 'the later event');
      expect(live).toEqual([later.id]);
      expect(closed).toBeNull();
      client.close();
    });
  });

  describe('find', () => {
    it('newest to oldest', async () => {
      const answer = await req(relay.url, [{ ids: groupAEvents.map((e) => e.id) }]);
      expect(answer.events.length).toBeGreaterThanOrEqual(3);
      const times = answer.events.map((e) => e.created_at);
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('newest events when limited', async () => {
      const answer = await req(relay.url, [{ authors: [registeredPk], '#t': ['a', 'b'], kinds: [1, 7], limit: 2 }]);
      expect(answer.ids).toEqual([groupA.limit_test_first.id, groupA.limit_test_second.id]);
    });

    it('find by id', async () => {
      await find({ ids: findable.map((e) => e.id) }, findable.length);
    });
    it('find by pubkey and kind', () => find({ authors: [registeredPk, strangerPk], kinds: [1, 3] }));
    it('find by pubkey and tags', () => find({ authors: [strangerPk], '#p': [registeredPk] }, 1));
    it('find by kind and tags', () => find({ kinds: [1, 30383, 3], '#n': ['approved'] }, 2));
    it('find by tags', () => find({ '#k': ['3036'] }, 1));
    it('find by multiple tags', () => find({ kinds: [30383], authors: [registeredPk], '#k': ['3036'], '#n': ['approved'], limit: 20 }, 1));
    it('find by pubkey', () => find({ authors: [registeredPk] }));

    it('a scrape (empty filter) is refused with CLOSED unsupported:, not served by a table scan', async () => {
      const answer = await req(relay.url, [{}]);
      expect(answer.closed).toMatch(/^unsupported: /);
    });
  });

  describe('replaceables', () => {
    it('replaces metadata: only the newer kind 0 is served', async () => {
      const answer = await req(relay.url, [{ kinds: [0], authors: [registeredPk] }]);
      expect(answer.ids).toEqual([groupA.metadata_newer.id]);
    });
    it('replaces the contact list', async () => {
      const answer = await req(relay.url, [{ kinds: [3], authors: [registeredPk] }]);
      expect(answer.ids).toEqual([groupA.contactlist_newer.id]);
    });
    it('a replaced version is not served even by id (the cache keeps the newest only)', async () => {
      const answer = await req(relay.url, [{ ids: [groupA.contactlist_older.id, groupA.metadata_older.id] }]);
      expect(answer.ids).toEqual([]);
    });
    it('replaceable event removes the previous one', async () => {
      const answer = await req(relay.url, [{ kinds: [10003] }]);
      expect(answer.ids).toEqual([groupA.newer_replaceable.id]);
    });
    it('addressable event removes the previous one', async () => {
      const answer = await req(relay.url, [{ kinds: [30000] }]);
      expect(answer.ids).toEqual([groupA.newer_param_replaceable.id]);
    });
    it('ephemeral events are not served', async () => {
      const answer = await req(relay.url, [{ kinds: [21212] }, { ids: [groupA.ephemeral.id] }]);
      expect(answer.ids).toEqual([]);
    });
  });

  describe('delete', () => {
    it('delete by id', async () => {
      const event = make(registered, 1, [['test']], 'I say wrong thing');
      await writeEvents(database, [event], options);
      await writeEvents(database, [make(registered, 5, [['e', event.id]], '')], options);
      expect((await req(relay.url, [{ ids: [event.id] }])).ids).toEqual([]);
    });

    it('delete by address', async () => {
      const event = make(registered, 30023, [['d', 'delete_by_addr_test']], 'I say wrong thing', minutesAgo(1));
      await writeEvents(database, [event], options);
      await writeEvents(database, [make(registered, 5, [['a', `30023:${registeredPk}:delete_by_addr_test`]], '')], options);
      expect((await req(relay.url, [{ ids: [event.id] }])).ids).toEqual([]);
    });

    it('delete by address deletes only versions older than the deletion', async () => {
      const older = make(registered, 30023, [['d', 'only_older']], 'I say wrong thing', minutesAgo(5));
      const newer = make(registered, 30023, [['d', 'only_older']], 'I say right thing', minutesAgo(1));
      await writeEvents(database, [older], options);
      await writeEvents(database, [newer], options);
      await writeEvents(database, [make(registered, 5, [['a', `30023:${registeredPk}:only_older`]], '', minutesAgo(3))], options);
      const answer = await req(relay.url, [{ authors: [registeredPk], kinds: [30023], '#d': ['only_older'] }]);
      expect(answer.ids).toEqual([newer.id]);
    });

    it('delete by address is bound by author, d tag and kind', async () => {
      const events = [
        make(registered, 30023, [['d', 'bound']], 'wrong', minutesAgo(2)),
        make(registered2, 30023, [['d', 'bound']], 'other author', minutesAgo(2)),
        make(registered, 30023, [['d', 'bound_x']], 'other d', minutesAgo(2)),
        make(registered, 30024, [['d', 'bound']], 'other kind', minutesAgo(2)),
      ];
      await writeEvents(database, events, options);
      await writeEvents(database, [make(registered, 5, [['a', `30023:${registeredPk}:bound`]], '')], options);
      const answer = await req(relay.url, [{ ids: events.map((e) => e.id) }]);
      expect(new Set(answer.ids)).toEqual(new Set(events.slice(1).map((e) => e.id)));
    });

    it("a deletion of someone else's event deletes nothing, and the deletion itself is served", async () => {
      const event = make(registered2, 1, [['test']], 'not yours to delete');
      const deletion = make(registered, 5, [['e', event.id]], '');
      await writeEvents(database, [event], options);
      await writeEvents(database, [deletion], options);
      expect((await req(relay.url, [{ ids: [event.id, deletion.id] }])).ids.sort()).toEqual([event.id, deletion.id].sort());
    });

    it('a deleted event written again stays deleted', async () => {
      const event = make(registered, 1, [['test']], 'resubmitted');
      await writeEvents(database, [event], options);
      await writeEvents(database, [make(registered, 5, [['e', event.id]], '')], options);
      await writeEvents(database, [event], options);
      expect((await req(relay.url, [{ ids: [event.id] }])).ids).toEqual([]);
    });
  });
});
