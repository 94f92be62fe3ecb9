/** One REQ through nostr-tools' Relay: the stored events until EOSE (in arrival order), or the CLOSED reason. */
import type { Filter } from 'nostr-tools/filter';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { WebSocket } from 'ws';
import type { NostrEvent } from '../../../src/nostr/types.js';

useWebSocketImplementation(WebSocket);

export interface StoredAnswer {
  events: NostrEvent[];
  ids: string[];
  /** Set when the relay answered CLOSED instead of EOSE. */
  closed: string | null;
}

export async function req(url: string, filters: Filter[]): Promise<StoredAnswer> {
  const relay = await Relay.connect(url);
  try {
    return await new Promise<StoredAnswer>((resolve) => {
      const events: NostrEvent[] = [];
      const sub = relay.subscribe(filters, {
        onevent: (e) => events.push(e as NostrEvent),
        oneose: () => {
          resolve({ events, ids: events.map((e) => e.id), closed: null });
          sub.close();
        },
        onclose: (reason) => resolve({ events, ids: events.map((e) => e.id), closed: reason }),
      });
    });
  } finally {
    relay.close();
  }
}
