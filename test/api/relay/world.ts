/**
 * A small signed world for the relay tests, and what the cache may serve of it computed
 * independently of the store: nostr-tools' matchFilter over the world minus deleted (NIP-09),
 * expired (NIP-40) and superseded (replaceable/addressable) events.
 */
import { matchFilter, type Filter } from 'nostr-tools/filter';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import type { NostrEvent } from '../../../src/nostr/types.js';

export const SUBCLAW = 'https://clawstr.com/c/relaytest';
export const OTHER_SUBCLAW = 'https://clawstr.com/c/elsewhere';

function sign(sk: Uint8Array, kind: number, created_at: number, tags: string[][], content: string): NostrEvent {
  return finalizeEvent({ kind, created_at, tags, content }, sk) as NostrEvent;
}

export interface World {
  events: NostrEvent[];
  authors: string[];
  keys: Uint8Array[];
  /** A post that the world deletes, and its deletion. */
  deletedPost: NostrEvent;
  deletion: NostrEvent;
  expired: NostrEvent;
  oldProfile: NostrEvent;
  newProfile: NostrEvent;
  oldArticle: NostrEvent;
  newArticle: NostrEvent;
  /** Posts that share one created_at (id order decides). */
  tied: NostrEvent[];
}

export function buildWorld(now = Math.floor(Date.now() / 1000)): World {
  const keys = [generateSecretKey(), generateSecretKey(), generateSecretKey()];
  const authors = keys.map((k) => getPublicKey(k));
  const events: NostrEvent[] = [];
  const base = now - 10_000;
  const posts: NostrEvent[] = [];
  for (let i = 0; i < 30; i++) {
    const sk = keys[i % 3]!;
    const subclaw = i % 4 === 0 ? OTHER_SUBCLAW : SUBCLAW;
    const words = i % 5 === 0 ? 'lighthouse keepers gather at dawn' : `plain note number ${i}`;
    posts.push(
      sign(sk, 1111, base + i * 60, [['I', subclaw], ['K', 'web'], ['i', subclaw], ['k', 'web'], ['t', i % 2 ? 'odd' : 'even']], words),
    );
  }
  const tiedAt = base + 5_000;
  const tied = [0, 1, 2, 3].map((n) => sign(keys[n % 3]!, 1111, tiedAt, [['I', SUBCLAW], ['K', 'web'], ['i', SUBCLAW], ['k', 'web']], `tied ${n}`));
  events.push(...posts, ...tied);
  // Replies, reactions, kind-1 notes.
  for (let i = 0; i < 10; i++) {
    const parent = posts[i]!;
    events.push(
      sign(keys[(i + 1) % 3]!, 1111, parent.created_at + 30, [['I', SUBCLAW], ['K', 'web'], ['e', parent.id, '', parent.pubkey], ['k', '1111'], ['p', parent.pubkey]], `reply ${i}`),
    );
    events.push(sign(keys[(i + 2) % 3]!, 7, parent.created_at + 40, [['e', parent.id], ['p', parent.pubkey], ['k', '1111']], i % 3 ? '+' : '-'));
    events.push(sign(keys[i % 3]!, 1, base + i * 7, [], `kind one note ${i} lighthouse`));
  }
  const oldProfile = sign(keys[0]!, 0, base, [], JSON.stringify({ name: 'old' }));
  const newProfile = sign(keys[0]!, 0, base + 100, [], JSON.stringify({ name: 'new' }));
  const oldArticle = sign(keys[1]!, 30023, base, [['d', 'essay']], 'first draft');
  const newArticle = sign(keys[1]!, 30023, base + 100, [['d', 'essay']], 'final text');
  events.push(oldProfile, newProfile, oldArticle, newArticle);
  const deletedPost = posts[3]!;
  const deletion = sign(keys[3 % 3]!, 5, deletedPost.created_at + 500, [['e', deletedPost.id], ['k', '1111']], 'mistake');
  // A deletion by someone else deletes nothing.
  const foreignDeletion = sign(keys[1]!, 5, base + 9_000, [['e', posts[6]!.id]], 'not mine');
  const expired = sign(keys[2]!, 1111, base + 200, [['I', SUBCLAW], ['K', 'web'], ['i', SUBCLAW], ['k', 'web'], ['expiration', String(now - 60)]], 'gone by now');
  const expiresLater = sign(keys[2]!, 1111, base + 210, [['I', SUBCLAW], ['K', 'web'], ['i', SUBCLAW], ['k', 'web'], ['expiration', String(now + 86_400)]], 'still here');
  events.push(deletion, foreignDeletion, expired, expiresLater);
  return { events, authors, keys, deletedPost, deletion, expired, oldProfile, newProfile, oldArticle, newArticle, tied };
}

const replaceableKey = (e: NostrEvent): string | null => {
  if (e.kind === 0 || e.kind === 3 || (e.kind >= 10000 && e.kind < 20000)) return `${e.kind}:${e.pubkey}`;
  if (e.kind >= 30000 && e.kind < 40000) return `${e.kind}:${e.pubkey}:${e.tags.find((t) => t[0] === 'd')?.[1] ?? ''}`;
  return null;
};

/** The events a cache following the NIP rules serves, independent of the store's code. */
export function servedEvents(events: readonly NostrEvent[], now = Math.floor(Date.now() / 1000)): NostrEvent[] {
  const newest = new Map<string, NostrEvent>();
  for (const e of events) {
    const key = replaceableKey(e);
    if (!key) continue;
    const cur = newest.get(key);
    if (!cur || e.created_at > cur.created_at || (e.created_at === cur.created_at && e.id < cur.id)) newest.set(key, e);
  }
  const byId = new Map(events.map((e) => [e.id, e]));
  const deleted = new Set<string>();
  for (const d of events.filter((e) => e.kind === 5)) {
    for (const t of d.tags) {
      if (t[0] === 'e' && t[1] && byId.get(t[1])?.pubkey === d.pubkey) deleted.add(t[1]);
    }
  }
  return events.filter((e) => {
    if (e.kind >= 20000 && e.kind < 30000) return false;
    const key = replaceableKey(e);
    if (key && newest.get(key) !== e) return false;
    if (deleted.has(e.id)) return false;
    const exp = e.tags.find((t) => t[0] === 'expiration')?.[1];
    if (exp && /^\d+$/.test(exp) && Number(exp) <= now) return false;
    return true;
  });
}

/** What a REQ with this filter must answer: matching served events, newest first (ties: lowest id), limited. */
export function expectedAnswer(served: readonly NostrEvent[], filter: Filter, maxLimit = 500): string[] {
  const limit = Math.min(filter.limit ?? maxLimit, maxLimit);
  return served
    .filter((e) => matchFilter(filter, e))
    .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
    .slice(0, limit)
    .map((e) => e.id);
}
