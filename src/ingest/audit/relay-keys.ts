/**
 * The relay's side of an audit: the (id, created_at) of every event a relay holds for a filter in
 * [since, until], learned either by id paging (REQ pages backwards with `until` and an explicit
 * `limit`, any relay) or by NIP-77 (only the differences cross the wire). Nothing is stored.
 *
 * Paging re-reads each page's oldest second (it may be cut), so the cursor moves down by at least
 * one second a page; a full page within one second cannot be listed further and is reported.
 * Events are checked for shape and id hash (not the signature: nothing is stored or trusted from
 * them, they are only listed).
 */
import { nip77 } from 'nostr-tools';
import type { Filter } from 'nostr-tools/filter';
import { getEventHash } from 'nostr-tools/pure';
import type { RelayConnection } from '../relay/connection.js';
import type { EventKey } from './diff.js';

export interface PagedKeys {
  keys: EventKey[];
  invalid: number;
  incompleteSeconds: number[];
  pages: number;
}

export class RelayIgnoresUntil extends Error {
  override name = 'RelayIgnoresUntil';
}

interface PageAnswer {
  events: unknown[];
  closed: string | null;
}

let sequence = 0;

/** One REQ until its EOSE (or CLOSED), over `connection`. */
function requestPage(connection: RelayConnection, filter: Filter, timeoutMs: number): Promise<PageAnswer> {
  const id = `audit-${process.pid}-${++sequence}`;
  return new Promise((resolve, reject) => {
    const events: unknown[] = [];
    const timer = setTimeout(() => {
      connection.unsubscribe(id);
      reject(new Error(`no EOSE within ${timeoutMs} ms`));
    }, timeoutMs);
    connection.subscribe(id, {
      filters: () => [filter],
      onEvent: (event) => void events.push(event),
      onEose: () => {
        clearTimeout(timer);
        connection.unsubscribe(id);
        resolve({ events, closed: null });
      },
      onClosed: (reason) => {
        clearTimeout(timer);
        resolve({ events, closed: reason });
      },
    });
  });
}

function keyOf(value: unknown): EventKey | null {
  const e = value as { id?: unknown; created_at?: unknown; pubkey?: unknown; kind?: unknown; tags?: unknown; content?: unknown };
  if (typeof e?.id !== 'string' || !Number.isSafeInteger(e.created_at) || typeof e.pubkey !== 'string') return null;
  if (!Number.isSafeInteger(e.kind) || !Array.isArray(e.tags) || typeof e.content !== 'string') return null;
  try {
    if (getEventHash(e as Parameters<typeof getEventHash>[0]) !== e.id) return null;
  } catch {
    return null;
  }
  return { id: e.id, createdAt: e.created_at as number };
}

export async function pageRelayKeys(
  connection: RelayConnection,
  filter: Filter,
  range: { since: number; until: number },
  options: { pageSize: number; timeoutMs: number; onPage?: (cursor: number, listed: number) => void },
): Promise<PagedKeys> {
  const byId = new Map<string, EventKey>();
  const incompleteSeconds: number[] = [];
  let invalid = 0;
  let pages = 0;
  let largestPage = 0;
  let cursor = range.until;
  while (cursor >= range.since) {
    const answer = await requestPage(connection, { ...filter, since: range.since, until: cursor, limit: options.pageSize }, options.timeoutMs);
    pages++;
    if (answer.closed !== null) throw new Error(`relay closed the audit REQ: ${answer.closed}`);
    const keys: EventKey[] = [];
    for (const event of answer.events) {
      const key = keyOf(event);
      if (key === null) invalid++;
      else keys.push(key);
    }
    if (keys.some((k) => k.createdAt > cursor)) throw new RelayIgnoresUntil(`the relay sent events newer than until=${cursor}: it cannot be paged`);
    for (const k of keys) if (k.createdAt >= range.since) byId.set(k.id, k);
    options.onPage?.(cursor, byId.size);
    if (keys.length === 0) break;
    const oldest = Math.min(...keys.map((k) => k.createdAt));
    // A full page inside one second: that second holds more than a page. "Full" is the page size
    // asked, or the largest page this relay has given (it may cap below what was asked).
    largestPage = Math.max(largestPage, answer.events.length);
    if (oldest === cursor && answer.events.length >= Math.min(options.pageSize, largestPage)) incompleteSeconds.push(cursor);
    cursor = oldest < cursor ? oldest : cursor - 1;
  }
  return { keys: [...byId.values()], invalid, incompleteSeconds, pages };
}

/** The keys of the events with these ids the relay serves (REQ {ids} in chunks of `chunk`). */
export async function fetchKeysByIds(
  connection: RelayConnection,
  ids: readonly string[],
  options: { chunk: number; timeoutMs: number },
): Promise<{ keys: EventKey[]; invalid: number }> {
  const keys: EventKey[] = [];
  let invalid = 0;
  for (let i = 0; i < ids.length; i += options.chunk) {
    const wanted = new Set(ids.slice(i, i + options.chunk));
    const answer = await requestPage(connection, { ids: [...wanted], limit: wanted.size }, options.timeoutMs);
    if (answer.closed !== null) throw new Error(`relay closed the audit REQ: ${answer.closed}`);
    for (const event of answer.events) {
      const key = keyOf(event);
      if (key === null || !wanted.has(key.id)) invalid++;
      else keys.push(key);
    }
  }
  return { keys, invalid };
}

export type ReconciledKeys =
  | { kind: 'reconciled'; need: string[]; have: string[]; rounds: number }
  | { kind: 'failed'; reason: string };

/**
 * NIP-77 with `items` (the cache's keys for the filter and range) as our side: the ids only the
 * relay has (need) and only we have (have). The filter carries since/until, so the relay's side is
 * the same range. Any failure (NEG-ERR, NOTICE, silence, an undecodable answer) ends it; the caller
 * pages instead.
 */
export async function reconcileRelayKeys(
  connection: RelayConnection,
  filter: Filter,
  items: readonly EventKey[],
  options: { timeoutMs: number; frameSizeLimit?: number },
): Promise<ReconciledKeys> {
  // A REQ waits in the connection's queue for the socket; a session opens on a live one only.
  if (!(await whenConnected(connection, options.timeoutMs))) return { kind: 'failed', reason: 'not connected' };
  const storage = new nip77.NegentropyStorageVector();
  for (const item of items) storage.insert(item.createdAt, item.id);
  storage.seal();
  const negentropy = new nip77.Negentropy(storage, options.frameSizeLimit ?? 50_000);
  const id = `audit-neg-${process.pid}-${++sequence}`;
  return new Promise((resolve) => {
    const need: string[] = [];
    const have: string[] = [];
    let rounds = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: ReconciledKeys, close: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stopNotices();
      if (close) connection.closeNegentropy(id);
      resolve(outcome);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: 'failed', reason: `no NIP-77 answer within ${options.timeoutMs} ms` }, true), options.timeoutMs);
    };
    const stopNotices = connection.on('notice', (message) => {
      if (rounds === 0) finish({ kind: 'failed', reason: `notice: ${message.slice(0, 200)}` }, true);
    });
    const opened = connection.openNegentropy(id, filter, negentropy.initiate(), {
      onMessage: (payload) => {
        if (done) return;
        const next = negentropy.reconcile(payload, (h) => have.push(h), (n) => need.push(n));
        rounds++;
        if (next === null) return finish({ kind: 'reconciled', need, have, rounds }, true);
        if (!connection.sendNegentropy(id, next)) return finish({ kind: 'failed', reason: 'disconnected' }, true);
        arm();
      },
      onError: (reason) => finish({ kind: 'failed', reason }, false),
    });
    if (!opened) return finish({ kind: 'failed', reason: 'not connected' }, false);
    arm();
  });
}

/** Resolves true once the connection is connected, false if it is not within `timeoutMs`. */
function whenConnected(connection: RelayConnection, timeoutMs: number): Promise<boolean> {
  if (connection.state().status === 'connected') return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const done = (connected: boolean) => {
      clearTimeout(timer);
      stop();
      resolve(connected);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const stop = connection.on('status', (state) => {
      if (state.status === 'connected') done(true);
      else if (state.status === 'stopped') done(false);
    });
  });
}
