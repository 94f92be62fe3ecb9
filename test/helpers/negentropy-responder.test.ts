/**
 * The test relay's NIP-77 responder against nostr-tools' initiator (the one the daemon uses): for
 * sets on both sides of every split threshold (32 items, 16 buckets) and with equal timestamps,
 * the initiator learns exactly the ids it lacks (need) and the ids only it has (have).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nip77 } from 'nostr-tools';
import { NegentropyResponder } from './negentropy-responder.js';

interface Item {
  id: string;
  created_at: number;
}

function items(n: number, spread: number): Item[] {
  return Array.from({ length: n }, (_, i) => ({ id: randomBytes(32).toString('hex'), created_at: 1_700_000_000 + (i % spread) }));
}

function sync(relayItems: Item[], clientItems: Item[]): { need: string[]; have: string[]; rounds: number } {
  const storage = new nip77.NegentropyStorageVector();
  for (const e of clientItems) storage.insert(e.created_at, e.id);
  storage.seal();
  const client = new nip77.Negentropy(storage, 4_096 * 4);
  const responder = new NegentropyResponder(relayItems);
  const need: string[] = [];
  const have: string[] = [];
  let message: string | null = client.initiate();
  let rounds = 0;
  while (message !== null) {
    if (++rounds > 100) throw new Error('no convergence');
    message = client.reconcile(responder.respond(message), (id) => have.push(id), (id) => need.push(id));
  }
  return { need, have, rounds };
}

describe('NegentropyResponder', () => {
  const cases: Array<[relay: number, shared: number, clientOnly: number, spread: number]> = [
    [0, 0, 0, 1],
    [10, 0, 0, 1],
    [10, 5, 0, 1],
    [0, 0, 7, 3],
    [31, 16, 2, 1],
    [32, 16, 0, 1],
    [33, 33, 0, 5],
    [100, 50, 3, 1],
    [1_000, 500, 10, 7],
    [5_000, 4_990, 0, 50],
    [3_000, 0, 0, 1],
  ];
  for (const [relayCount, shared, clientOnly, spread] of cases) {
    it(`relay ${relayCount}, shared ${shared}, client-only ${clientOnly}, ${spread} distinct seconds`, () => {
      const relay = items(relayCount, spread);
      const mine = items(clientOnly, spread);
      const client = [...relay.slice(0, shared), ...mine];
      const result = sync(relay, client);
      expect(result.need.sort()).toEqual(relay.slice(shared).map((e) => e.id).sort());
      expect(result.have.sort()).toEqual(mine.map((e) => e.id).sort());
    });
  }

  it('refuses what it cannot decode', () => {
    const responder = new NegentropyResponder(items(3, 1));
    expect(() => responder.respond('zz')).toThrow();
    expect(() => responder.respond('62')).toThrow(/version/);
    expect(() => responder.respond('61ff')).toThrow(/prematurely/);
  });
});
