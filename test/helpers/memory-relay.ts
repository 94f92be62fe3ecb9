/**
 * A small relay over the hostile-relay server, answering REQs from an in-memory list of events with
 * NIP-01 filter matching (nostr-tools), newest first, `limit` clamped to `maxLimit`. It records
 * every REQ's filters, and can misbehave on purpose: ignore `until`, or answer a REQ with frames
 * of the test's choosing (CLOSED with a reason, …) through `respond`. It has no NIP-77: NEG-OPEN
 * gets NEG-ERR, as from a relay that does not implement it.
 */
import { matchFilter, type Filter } from 'nostr-tools/filter';
import type { NostrEvent } from '../../src/nostr/types.js';
import { startHostileRelay, type Frame, type HostileRelay } from './hostile-relay.js';

export interface MemoryRelayOptions {
  maxLimit: number;
  /** Answer as if every filter had no `until` (a relay that ignores it). */
  ignoreUntil?: boolean;
  /**
   * Frames to answer a REQ with instead of its events and EOSE; undefined keeps the normal answer.
   * `seen` counts earlier REQs with this subscription id on any connection.
   */
  respond?: (subscriptionId: string, seen: number) => Frame[] | undefined;
}

export interface MemoryRelay {
  readonly url: string;
  readonly server: HostileRelay;
  /** Every REQ received, in order: connection number (from 1), subscription id, filters. */
  readonly requests: Array<{ connection: number; id: string; filters: Filter[] }>;
  close(): Promise<void>;
}

export async function startMemoryRelay(events: readonly NostrEvent[], options: MemoryRelayOptions): Promise<MemoryRelay> {
  const requests: MemoryRelay['requests'] = [];
  const seen = new Map<string, number>();
  let connections = 0;
  const server = await startHostileRelay(async (peer) => {
    const connection = ++connections;
    for (;;) {
      const frame = await peer.nextFrame();
      if (!Array.isArray(frame) || typeof frame[1] !== 'string') continue;
      if (frame[0] === 'NEG-OPEN') {
        await peer.send(['NEG-ERR', frame[1], 'blocked: NIP-77 not supported']);
        continue;
      }
      if (frame[0] !== 'REQ') continue;
      const [, id, ...filters] = frame as [string, string, ...Filter[]];
      requests.push({ connection, id, filters: filters as Filter[] });
      const count = seen.get(id) ?? 0;
      seen.set(id, count + 1);
      const custom = options.respond?.(id, count);
      if (custom) {
        for (const frame of custom) await peer.send(frame);
        continue;
      }
      await peer.sendAll([...answer(events, filters as Filter[], options).map((e) => ['EVENT', id, e]), ['EOSE', id]]);
    }
  });
  return { url: server.url, server, requests, close: () => server.close() };
}

function answer(events: readonly NostrEvent[], filters: Filter[], options: MemoryRelayOptions): NostrEvent[] {
  const out = new Map<string, NostrEvent>();
  for (const filter of filters) {
    const effective: Filter = { ...filter };
    if (options.ignoreUntil) delete effective.until;
    const limit = Math.min(filter.limit ?? options.maxLimit, options.maxLimit);
    const matching = events.filter((e) => matchFilter(effective, e)).sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1));
    for (const e of matching.slice(0, limit)) out.set(e.id, e);
  }
  return [...out.values()];
}
