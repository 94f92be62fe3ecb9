/**
 * A real Nostr relay on 127.0.0.1 for integration tests: @nostr-relay/core (CodyTseng's relay
 * engine: REQ/EVENT/CLOSE/AUTH handling, live subscriptions, EOSE, CLOSED, NOTICE, OK) over
 * @nostr-relay/event-repository-sqlite (a SQLite file, so events survive a kill and a restart),
 * with @nostr-relay/validator checking every incoming frame. Our code here is only the glue a
 * relay host writes anyway: the WebSocket/HTTP listener, the NIP-11 document, and three relay
 * plugins (the REQ `limit` ceiling, "auth required" and keeping kind-5 deletion requests).
 *
 * Behaviour worth knowing when writing tests against it:
 * - By default `limit` is clamped to `maxLimit` (a REQ without `limit` gets `maxLimit` too). With
 *   `caps: 'engine'` the engine's own rules apply instead, as a relay host running it unchanged
 *   gets them: a REQ without `limit` is answered with its newest 100 events, one with `limit` with
 *   up to 1,000 (the sqlite repository's default limit and 10 times it). `caps: {withoutLimit,
 *   withLimit}` sets both. Either way NIP-11 advertises the cap with `limit` as `max_limit`, unless
 *   `nip11: false` (no document: the HTTP answer is a 404). Results are
 *   newest first by `created_at`; events with equal `created_at` come in no defined order, never
 *   sorted by id (plain filters: latest stored first; `#tag` filters: index order). So a run of
 *   equal `created_at` longer than `maxLimit` gives the same page for every `until` at that
 *   second: the rest is reachable only through narrower filters (authors, kinds, tags, ids).
 * - `since`/`until` are inclusive. `since: 0` / `until: 0` are ignored by the repository (falsy).
 * - At most two distinct `#x` tag filters per filter are honoured; a filter with three or more
 *   returns nothing (repository rule).
 * - Replaceable/addressable: newest wins, ties to the lowest id. Ephemeral kinds are not stored.
 * - Already-expired events (NIP-40) are refused on publish (`OK false`), so expired events must
 *   come from the hostile relay helper.
 * - Kind-5 deletion requests delete the author's targets; the engine itself drops the request, so
 *   a plugin here stores and broadcasts it (NIP-09: relays should keep serving them).
 * - No NIP-45 COUNT, and no NIP-77 (negentropy) unless the `nip77` option adds it: the engine has
 *   neither. Without it, NEG-OPEN is answered as any unknown message: `NOTICE invalid: …`. With it,
 *   NEG-OPEN/NEG-MSG/NEG-CLOSE are answered here (before the engine sees them) over every stored
 *   event matching the filter, by the responder in ./negentropy-responder.ts, as strfry runs the
 *   reference implementation: messages of up to 500,000 bytes before hex (NEG-MSG frames of ~1 MB),
 *   `NEG-ERR PROTOCOL-ERROR` for a message it cannot decode, `NEG-ERR closed: unknown subscription
 *   handle` for a NEG-MSG of no open session. `refuse: 'notice'` answers every NEG-* as strfry with
 *   negentropy turned off does (`NOTICE ERROR: bad msg: negentropy disabled`); `refuse: 'silent'`
 *   never answers them.
 * - `requests` and `negentropyOpens` log every REQ's filters and every NEG-OPEN's filter received,
 *   so tests can tell what a client asked for.
 * - `query()` returns at most `maxLimit` events, as any client would see; to compare against
 *   "every event the relay holds", use `storedEvents()`, which reads the relay's storage directly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NostrRelay } from '@nostr-relay/core';
import { LogLevel } from '@nostr-relay/common';
import type { ClientContext, HandleMessagePlugin, HandleMessageResult, IncomingMessage as RelayMessage, Logger } from '@nostr-relay/common';
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite';
import { Validator } from '@nostr-relay/validator';
import type { NostrEvent } from 'nostr-tools/core';
import { matchFilter, type Filter } from 'nostr-tools/filter';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { NegentropyResponder } from './negentropy-responder.js';

export type { NostrEvent, Filter };

export interface TestRelayOptions {
  /** Port to bind on 127.0.0.1; 0 (default) picks a free one, kept across restarts. */
  port?: number;
  /** Ceiling on a REQ's `limit` (also the result size of a REQ without `limit`). Default 10,000. */
  maxLimit?: number;
  /**
   * Caps that differ with and without `limit` (replaces `maxLimit`): 'engine' is @nostr-relay/core's
   * own (100 without, 1,000 with), an object sets both.
   */
  caps?: 'engine' | RequestCaps;
  /** Serve a NIP-11 document (default true); false answers 404, as relays without one do. */
  nip11?: boolean;
  /** Folder for the SQLite file. Default: a fresh temporary folder, removed by `close()`. */
  storageDir?: string;
  /**
   * NIP-42: the relay sends `["AUTH", challenge]` on connect and answers REQ with
   * `CLOSED … auth-required:` and EVENT with `OK false auth-required:` until the client authenticates.
   */
  authRequired?: boolean;
  /** Maximum subscriptions per connection (the engine evicts the oldest beyond it). Default 20. */
  maxSubscriptions?: number;
  /** Largest incoming WebSocket message in bytes. Default 1 MiB. */
  maxMessageLength?: number;
  /**
   * NIP-77 negentropy. `advertise` (default true) lists 77 in NIP-11; `maxRecords` answers a
   * NEG-OPEN matching more stored events with `NEG-ERR blocked: too many records`.
   */
  nip77?: {
    advertise?: boolean;
    maxRecords?: number;
    /** Largest negentropy message in bytes before hex; default strfry's 500,000; 0 = none. */
    frameSizeLimit?: number;
    /** Answer NEG-* as strfry with negentropy off (a NOTICE), or never. */
    refuse?: 'notice' | 'silent';
  };
}

/** How many stored events a REQ's answer holds at most, by whether it carries a `limit`. */
export interface RequestCaps {
  withoutLimit: number;
  withLimit: number;
}

/** @nostr-relay/event-repository-sqlite's: its default limit, and 10 times it as the ceiling. */
export const ENGINE_CAPS: RequestCaps = { withoutLimit: 100, withLimit: 1000 };

/** strfry's text for a NEG-* message when its negentropy is turned off. */
export const NEGENTROPY_DISABLED_NOTICE = 'ERROR: bad msg: negentropy disabled';

export interface OkResult {
  id: string;
  accepted: boolean;
  message: string;
}

export interface RelayInformation {
  name: string;
  description: string;
  software: string;
  version: string;
  supported_nips: number[];
  limitation: {
    max_limit: number;
    max_subscriptions: number;
    max_message_length: number;
    auth_required: boolean;
  };
}

export interface TestRelay {
  /** `ws://127.0.0.1:PORT` */
  readonly url: string;
  /** `http://127.0.0.1:PORT` (NIP-11 with `Accept: application/nostr+json`). */
  readonly httpUrl: string;
  readonly port: number;
  /** Folder holding the SQLite file. */
  readonly storageDir: string;
  /** The NIP-11 document this relay serves (or would: see `nip11`). */
  readonly info: RelayInformation;
  /** What a REQ's answer holds at most, with and without `limit`. */
  readonly caps: RequestCaps;
  /** Whether the relay is listening. */
  readonly running: boolean;
  /** Open client connections. */
  readonly connectionCount: number;
  /** The filters of every REQ received, in order (including those of `query()`). */
  readonly requests: ReadonlyArray<readonly Filter[]>;
  /** The filter of every NEG-OPEN received (whether or not `nip77` is on). */
  readonly negentropyOpens: readonly Filter[];
  /**
   * Sends the events as a client (one connection, EVENT frames pipelined) and waits for every OK.
   * Throws when any is refused, unless `allowRejected`; resolves to the OK results in input order.
   */
  publish(events: readonly NostrEvent[], options?: { allowRejected?: boolean; timeoutMs?: number }): Promise<OkResult[]>;
  /** One REQ as a client: the stored events (relay order: newest first) up to EOSE. Rejects on CLOSED. */
  query(filter: Filter | readonly Filter[], options?: { timeoutMs?: number }): Promise<NostrEvent[]>;
  /**
   * Puts regular events (not replaceable, addressable or ephemeral) straight into the relay's
   * storage in one transaction, as if published long ago: no signature check, no OK, no live
   * delivery, no NIP-50 search entry. The engine's upsert costs a few milliseconds per event, so
   * 20,000 take a second this way instead of a minute. Resolves to the number stored (duplicates
   * are not).
   */
  seed(events: readonly NostrEvent[]): Promise<number>;
  /** Every event in the relay's storage (no limit), newest first then by id. Works while stopped. */
  storedEvents(): Promise<NostrEvent[]>;
  /** Drops every client connection abruptly (no close frame) but keeps listening: a network blip. */
  dropConnections(): void;
  /**
   * From now on, each connection gets at most `events` more EVENT frames; everything the relay
   * sends it after that (events, EOSE, …) waits, in order, until `release()`. Tests use it to
   * stop a stream at a known point, e.g. to kill a client mid-ingest whatever the machine's speed.
   */
  holdDelivery(events: number): { release(): void };
  /** Graceful stop: close frames (1001) to clients, then the listener and the storage. */
  stop(): Promise<void>;
  /** Crash: sockets destroyed at once, no close frames, listener and storage closed. */
  kill(): Promise<void>;
  /** Starts again on the same port over the same storage (stops gracefully first if running). */
  restart(): Promise<void>;
  /** Stops (gracefully) and deletes the storage. Idempotent. */
  close(): Promise<void>;
}

const SOFTWARE = '@nostr-relay/core';
const SOFTWARE_VERSION = '0.0.40';
const DB_FILE = 'relay.sqlite';

const silentLogger: Logger = {
  setLogLevel() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** The minimal better-sqlite3 surface storedEvents() needs (better-sqlite3 ships no types). */
interface SqliteHandle {
  prepare(sql: string): { all(): unknown[]; run(...values: unknown[]): { changes: number } };
  transaction<T>(body: () => T): () => T;
}

/**
 * The rows the engine's upsert writes for a regular event (its `events` and `generic_tags` tables,
 * as @nostr-relay/event-repository-sqlite's migrations define them), in one transaction.
 */
function seedStorage(sqlite: SqliteHandle, events: readonly NostrEvent[]): number {
  const insertEvent = sqlite.prepare(
    'INSERT OR IGNORE INTO events (id, pubkey, author, kind, created_at, tags, content, sig, d_tag_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)',
  );
  const insertTag = sqlite.prepare('INSERT INTO generic_tags (tag, event_id, kind, author, created_at) VALUES (?, ?, ?, ?, ?)');
  return sqlite.transaction(() => {
    let stored = 0;
    for (const e of events) {
      const regular = e.kind === 1 || e.kind === 2 || (e.kind >= 4 && e.kind < 45) || (e.kind >= 1000 && e.kind < 10000);
      if (!regular) throw new Error(`seed() takes regular events only, not kind ${e.kind}`);
      if (insertEvent.run(e.id, e.pubkey, e.pubkey, e.kind, e.created_at, JSON.stringify(e.tags), e.content, e.sig).changes === 0) continue;
      stored++;
      const tags = new Set(e.tags.filter(([name]) => /^[a-zA-Z]$/.test(name ?? '')).map(([name, value]) => `${name}:${value}`));
      for (const tag of tags) insertTag.run(tag, e.id, e.kind, e.pubkey, e.created_at);
    }
    return stored;
  })();
}

interface StoredRow {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string;
  content: string;
  sig: string;
}

interface Running {
  repository: EventRepositorySqlite;
  relay: NostrRelay;
  http: Server;
  wss: WebSocketServer;
  clients: Set<WebSocket>;
}

export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const engineCaps = options.caps === 'engine';
  const caps: RequestCaps =
    options.caps === undefined
      ? { withoutLimit: options.maxLimit ?? 10_000, withLimit: options.maxLimit ?? 10_000 }
      : engineCaps
        ? ENGINE_CAPS
        : (options.caps as RequestCaps);
  const maxLimit = caps.withLimit;
  const serveNip11 = options.nip11 ?? true;
  const maxSubscriptions = options.maxSubscriptions ?? 20;
  const maxMessageLength = options.maxMessageLength ?? 1024 * 1024;
  const authRequired = options.authRequired ?? false;
  const ownsStorage = options.storageDir === undefined;
  const storageDir = options.storageDir ?? (await mkdtemp(join(tmpdir(), 'nostr-cache-relay-')));
  const dbPath = join(storageDir, DB_FILE);
  const authKey = generateSecretKey();

  const info: RelayInformation = {
    name: 'nostr-cache test relay',
    description: `${SOFTWARE} with a SQLite event repository, run by the nostr-cache tests`,
    software: SOFTWARE,
    version: SOFTWARE_VERSION,
    supported_nips: [1, 9, 11, ...(authRequired ? [42] : []), ...(options.nip77 && options.nip77.advertise !== false ? [77] : [])],
    limitation: {
      max_limit: maxLimit,
      max_subscriptions: maxSubscriptions,
      max_message_length: maxMessageLength,
      auth_required: authRequired,
    },
  };

  let port = options.port ?? 0;
  let running: Running | undefined;
  let closed = false;
  const requests: Filter[][] = [];
  const negentropyOpens: Filter[] = [];
  let transition: Promise<void> = Promise.resolve();
  let delivery: DeliveryHold | null = null;

  /** Serialises start/stop/kill so overlapping calls (e.g. afterEach + a test's own stop) are safe. */
  function serial(step: () => Promise<void>): Promise<void> {
    const next = transition.then(step);
    transition = next.catch(() => {});
    return next;
  }

  async function open(): Promise<void> {
    // The engine's caps come from the repository itself; otherwise the plugin sets every REQ's
    // limit, and the repository's own ceiling (10 times its default) must stay above it.
    const repository = new EventRepositorySqlite(dbPath, engineCaps ? {} : { defaultLimit: Math.max(caps.withoutLimit, caps.withLimit) });
    await repository.init();
    const relay = new NostrRelay(repository, {
      // Setting a hostname is how the engine turns NIP-42 on (challenge on connect).
      ...(authRequired ? { hostname: '127.0.0.1' } : {}),
      logger: silentLogger,
      logLevel: LogLevel.ERROR,
      maxSubscriptionsPerClient: maxSubscriptions,
      // The engine caches REQ results per filter for 1 s and OK results per id for 10 min by
      // default: tests publish then query at once, so both caches are off.
      filterResultCacheTtl: 0,
      eventHandlingResultCacheTtl: 0,
    });
    if (authRequired) relay.register(authRequiredPlugin());
    if (!engineCaps) relay.register(limitPlugin(caps));
    relay.register(keepDeletionsPlugin(repository, relay));
    const validator = new Validator({ maxContentLength: maxMessageLength });

    const clients = new Set<WebSocket>();
    const http = createServer((req, res) => serveInformation(req, res, serveNip11 ? info : null));
    const wss = new WebSocketServer({ server: http, maxPayload: maxMessageLength });
    wss.on('connection', (socket, req) => {
      clients.add(socket);
      holdableSend(socket, () => delivery);
      relay.handleConnection(socket, req.socket.remoteAddress);
      const negentropy = new Map<string, NegentropyResponder>();
      socket.on('message', (data: RawData, isBinary: boolean) => {
        void (async () => {
          try {
            const text = isBinary ? null : rawToString(data);
            const head = text === null ? null : peekMessage(text);
            if (head?.[0] === 'REQ') requests.push(head.slice(2) as Filter[]);
            if (head?.[0] === 'NEG-OPEN') negentropyOpens.push(head[2] as Filter);
            if (options.nip77 && head && typeof head[0] === 'string' && head[0].startsWith('NEG-')) {
              if (options.nip77.refuse === 'silent') return;
              if (options.nip77.refuse === 'notice') return socket.send(JSON.stringify(['NOTICE', NEGENTROPY_DISABLED_NOTICE]));
              return await answerNegentropy(socket, head, negentropy, options.nip77, () => handle.storedEvents());
            }
            const message = await validator.validateIncomingMessage(isBinary ? data : text!);
            await relay.handleMessage(socket, message);
          } catch (error) {
            if (socket.readyState === WebSocket.OPEN) {
              socket.send(JSON.stringify(['NOTICE', `invalid: ${(error as Error).message}`]));
            }
          }
        })();
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clients.delete(socket);
        relay.handleDisconnect(socket);
      });
    });
    wss.on('error', () => {});

    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
    port = (http.address() as AddressInfo).port;
    running = { repository, relay, http, wss, clients };
  }

  async function shutdown(graceful: boolean): Promise<void> {
    const current = running;
    if (!current) return;
    running = undefined;
    const { http, wss, clients, relay, repository } = current;
    if (graceful) {
      await Promise.all(
        [...clients].map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === WebSocket.CLOSED) return resolve();
              const timer = setTimeout(() => {
                socket.terminate();
                resolve();
              }, 1000);
              socket.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              socket.close(1001, 'relay shutting down');
            }),
        ),
      );
    } else {
      for (const socket of clients) socket.terminate();
    }
    clients.clear();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await relay.destroy();
    await repository.destroy();
  }

  function requireRunning(): Running {
    if (!running) throw new Error('test relay is not running');
    return running;
  }

  const clientOptions = (): ClientOptions => ({ url: `ws://127.0.0.1:${port}`, authKey: authRequired ? authKey : undefined });

  const handle: TestRelay = {
    get url() {
      return `ws://127.0.0.1:${port}`;
    },
    get httpUrl() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storageDir,
    info,
    caps,
    get running() {
      return running !== undefined;
    },
    get connectionCount() {
      return running?.clients.size ?? 0;
    },
    requests,
    negentropyOpens,
    async publish(events, publishOptions = {}) {
      requireRunning();
      const results = await publishEvents(clientOptions(), events, publishOptions.timeoutMs ?? 30_000);
      const refused = results.filter((r) => !r.accepted);
      if (refused.length > 0 && !publishOptions.allowRejected) {
        throw new Error(`relay refused ${refused.length} event(s): ${refused.slice(0, 3).map((r) => `${r.id.slice(0, 8)} ${r.message}`).join('; ')}`);
      }
      return results;
    },
    async query(filter, queryOptions = {}) {
      requireRunning();
      const filters: Filter[] = Array.isArray(filter) ? [...(filter as readonly Filter[])] : [filter as Filter];
      return requestUntilEose(clientOptions(), filters, queryOptions.timeoutMs ?? 30_000);
    },
    async seed(events) {
      const { repository } = requireRunning();
      return seedStorage(repository.getDatabase() as SqliteHandle, events);
    },
    async storedEvents() {
      if (closed) throw new Error('test relay is closed');
      const sqlSelect = 'SELECT id, pubkey, created_at, kind, tags, content, sig FROM events ORDER BY created_at DESC, id ASC';
      let rows: unknown[];
      if (running) {
        rows = (running.repository.getDatabase() as SqliteHandle).prepare(sqlSelect).all();
      } else {
        // Opened through the relay's own repository (no migration run: the file already has them).
        const repository = new EventRepositorySqlite(dbPath);
        try {
          rows = (repository.getDatabase() as SqliteHandle).prepare(sqlSelect).all();
        } finally {
          await repository.destroy();
        }
      }
      return (rows as StoredRow[]).map((row) => ({
        id: row.id,
        pubkey: row.pubkey,
        created_at: row.created_at,
        kind: row.kind,
        tags: JSON.parse(row.tags) as string[][],
        content: row.content,
        sig: row.sig,
      }));
    },
    dropConnections() {
      for (const socket of running?.clients ?? []) socket.terminate();
    },
    holdDelivery(events) {
      const hold: DeliveryHold = { allowance: events, sent: new WeakMap(), waiting: [] };
      delivery = hold;
      return {
        release() {
          if (delivery === hold) delivery = null;
          for (const flush of hold.waiting.splice(0)) flush();
        },
      };
    },
    stop: () => serial(() => shutdown(true)),
    kill: () => serial(() => shutdown(false)),
    restart: () =>
      serial(async () => {
        if (closed) throw new Error('test relay is closed');
        await shutdown(true);
        await open();
      }),
    close: () =>
      serial(async () => {
        if (closed) return;
        closed = true;
        await shutdown(true);
        if (ownsStorage) {
          await rm(storageDir, { recursive: true, force: true });
        } else {
          await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(dbPath + suffix, { force: true })));
        }
      }),
  };

  try {
    await open();
  } catch (error) {
    if (ownsStorage) await rm(storageDir, { recursive: true, force: true });
    throw error;
  }
  return handle;
}

/** A `holdDelivery` in force: EVENT frames sent per connection since, and the frames held back. */
interface DeliveryHold {
  allowance: number;
  sent: WeakMap<WebSocket, number>;
  waiting: Array<() => void>;
}

/**
 * Routes the socket's `send` through the current delivery hold, if any. Once a connection has had
 * its allowance of EVENT frames, it queues everything after, so frame order is kept on release.
 */
function holdableSend(socket: WebSocket, currentHold: () => DeliveryHold | null): void {
  const send = socket.send.bind(socket) as (data: string) => void;
  const queued: string[] = [];
  let flushing = false;
  const flush = (): void => {
    flushing = false;
    for (const data of queued.splice(0)) if (socket.readyState === WebSocket.OPEN) send(data);
  };
  (socket as { send: (data: string) => void }).send = (data: string) => {
    const hold = currentHold();
    if (queued.length > 0 || (hold && isEventFrame(data) && (hold.sent.get(socket) ?? 0) >= hold.allowance)) {
      queued.push(data);
      if (hold && !flushing) {
        flushing = true;
        hold.waiting.push(flush);
      } else if (!hold) {
        flush();
      }
      return;
    }
    if (hold && isEventFrame(data)) hold.sent.set(socket, (hold.sent.get(socket) ?? 0) + 1);
    send(data);
  };
}

function isEventFrame(data: unknown): boolean {
  return typeof data === 'string' && data.startsWith('["EVENT"');
}

/** The frame as a JSON array, or null (the validator then answers it as the engine would). */
function peekMessage(text: string): unknown[] | null {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * NIP-77, relay side: NEG-OPEN builds a responder over the stored events matching the filter (all
 * of them, no page limit) and answers the initial message; NEG-MSG continues; NEG-CLOSE forgets.
 */
async function answerNegentropy(
  socket: WebSocket,
  frame: unknown[],
  sessions: Map<string, NegentropyResponder>,
  options: NonNullable<TestRelayOptions['nip77']>,
  storedEvents: () => Promise<NostrEvent[]>,
): Promise<void> {
  const { maxRecords } = options;
  const [type, subscriptionId, ...rest] = frame;
  if (typeof subscriptionId !== 'string') return;
  const send = (message: unknown[]) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  const answer = (responder: NegentropyResponder, message: unknown) => {
    try {
      send(['NEG-MSG', subscriptionId, responder.respond(String(message))]);
    } catch {
      // strfry's answer to a message the reference cannot decode.
      sessions.delete(subscriptionId);
      send(['NEG-ERR', subscriptionId, 'PROTOCOL-ERROR']);
    }
  };
  if (type === 'NEG-OPEN') {
    const [filter, message] = rest as [Filter, unknown];
    const matching = (await storedEvents()).filter((event) => matchFilter(filter, event));
    if (maxRecords !== undefined && matching.length > maxRecords) {
      sessions.delete(subscriptionId);
      return send(['NEG-ERR', subscriptionId, 'blocked: too many records']);
    }
    const responder = new NegentropyResponder(matching, { frameSizeLimit: options.frameSizeLimit });
    sessions.set(subscriptionId, responder);
    return answer(responder, message);
  }
  if (type === 'NEG-MSG') {
    const responder = sessions.get(subscriptionId);
    if (!responder) return send(['NEG-ERR', subscriptionId, 'closed: unknown subscription handle']);
    return answer(responder, rest[0]);
  }
  if (type === 'NEG-CLOSE') sessions.delete(subscriptionId);
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function serveInformation(req: IncomingMessage, res: ServerResponse, info: RelayInformation | null): void {
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': '*',
    'access-control-allow-methods': 'GET, OPTIONS',
  };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, cors).end();
    return;
  }
  if (info === null) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
    return;
  }
  if ((req.headers.accept ?? '').includes('application/nostr+json')) {
    res.writeHead(200, { ...cors, 'content-type': 'application/nostr+json' }).end(JSON.stringify(info));
    return;
  }
  res.writeHead(200, { ...cors, 'content-type': 'text/plain' }).end('Please use a Nostr client to connect.\n');
}

// ---------------------------------------------------------------------------------------------
// Relay plugins (the engine's extension point, @nostr-relay/common HandleMessagePlugin)

/**
 * Sets every REQ filter's `limit`: the cap without one, or the asked limit clamped to the cap with
 * one, as relays advertising NIP-11 `max_limit` do (and relays with a smaller default page).
 */
function limitPlugin(caps: RequestCaps): HandleMessagePlugin {
  return {
    handleMessage(_ctx: ClientContext, message: RelayMessage, next: () => Promise<HandleMessageResult>) {
      if (message[0] === 'REQ') {
        for (const filter of message.slice(2) as { limit?: number }[]) {
          filter.limit = filter.limit === undefined ? caps.withoutLimit : Math.min(filter.limit, caps.withLimit);
        }
      }
      return next();
    },
  };
}

/** Refuses REQ and EVENT from a connection that has not completed NIP-42 AUTH. */
function authRequiredPlugin(): HandleMessagePlugin {
  const reason = 'auth-required: this relay only serves authenticated clients';
  return {
    async handleMessage(ctx: ClientContext, message: RelayMessage, next: () => Promise<HandleMessageResult>) {
      if (ctx.pubkey) return next();
      if (message[0] === 'REQ') {
        ctx.sendMessage(['CLOSED', message[1], reason]);
        return { messageType: 'REQ', events: [] };
      }
      if (message[0] === 'EVENT') {
        ctx.sendMessage(['OK', message[1].id, false, reason]);
        return { messageType: 'EVENT', success: false, message: reason };
      }
      return next();
    },
  };
}

/**
 * The engine applies a kind-5 deletion request and then drops the request itself; relays are
 * expected to keep serving it (NIP-09), and the cache's tombstones depend on receiving it, so it is
 * stored and broadcast here once the engine has accepted it.
 */
function keepDeletionsPlugin(repository: EventRepositorySqlite, relay: NostrRelay): HandleMessagePlugin {
  return {
    async handleMessage(_ctx: ClientContext, message: RelayMessage, next: () => Promise<HandleMessageResult>) {
      const result = await next();
      if (message[0] === 'EVENT' && message[1].kind === 5 && result && 'success' in result && result.success) {
        const { isDuplicate } = await repository.upsert(message[1]);
        if (!isDuplicate) await relay.broadcast(message[1]);
      }
      return result;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A minimal client, used by publish() and query()

interface ClientOptions {
  url: string;
  /** When set, answer the relay's AUTH challenge with this key before doing anything else. */
  authKey: Uint8Array | undefined;
}

interface Connection {
  socket: WebSocket;
  onMessage(handler: (message: unknown[]) => void): void;
  close(): void;
}

async function connect(options: ClientOptions, timeoutMs: number): Promise<Connection> {
  const socket = new WebSocket(options.url);
  const handlers: ((message: unknown[]) => void)[] = [];
  let challenge: ((value: string) => void) | undefined;
  const challenged = new Promise<string>((resolve) => (challenge = resolve));
  socket.on('message', (data: RawData) => {
    let message: unknown;
    try {
      message = JSON.parse(rawToString(data));
    } catch {
      return;
    }
    if (!Array.isArray(message)) return;
    if (message[0] === 'AUTH' && typeof message[1] === 'string') challenge?.(message[1]);
    for (const handler of handlers) handler(message);
  });
  socket.on('error', () => {});
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`connection to ${options.url} closed`)));
    }),
    timeoutMs,
    `connecting to ${options.url}`,
    () => socket.terminate(),
  );
  const connection: Connection = {
    socket,
    onMessage: (handler) => void handlers.push(handler),
    close: () => {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
    },
  };
  if (options.authKey) {
    try {
      const key = options.authKey;
      const challengeValue = await withTimeout(challenged, timeoutMs, 'waiting for the AUTH challenge');
      const auth = finalizeEvent(
        {
          kind: 22242,
          created_at: Math.floor(Date.now() / 1000),
          tags: [
            ['relay', options.url],
            ['challenge', challengeValue],
          ],
          content: '',
        },
        key,
      );
      const ok = new Promise<void>((resolve, reject) => {
        connection.onMessage((message) => {
          if (message[0] === 'OK' && message[1] === auth.id) {
            if (message[2] === true) resolve();
            else reject(new Error(`AUTH refused: ${String(message[3])}`));
          }
        });
      });
      socket.send(JSON.stringify(['AUTH', auth]));
      await withTimeout(ok, timeoutMs, 'waiting for the AUTH OK');
    } catch (error) {
      connection.close();
      throw error;
    }
  }
  return connection;
}

async function publishEvents(options: ClientOptions, events: readonly NostrEvent[], timeoutMs: number): Promise<OkResult[]> {
  if (events.length === 0) return [];
  const connection = await connect(options, timeoutMs);
  try {
    const byId = new Map<string, OkResult>();
    const wanted = new Set(events.map((e) => e.id));
    const done = new Promise<void>((resolve, reject) => {
      connection.onMessage((message) => {
        if (message[0] !== 'OK' || typeof message[1] !== 'string' || !wanted.has(message[1])) return;
        byId.set(message[1], { id: message[1], accepted: message[2] === true, message: String(message[3] ?? '') });
        if (byId.size === wanted.size) resolve();
      });
      connection.socket.once('close', () => reject(new Error('relay closed the connection before every OK')));
    });
    for (const event of events) connection.socket.send(JSON.stringify(['EVENT', event]));
    await withTimeout(done, timeoutMs, `waiting for ${wanted.size - byId.size} OK(s)`);
    return events.map((e) => byId.get(e.id)!);
  } finally {
    connection.close();
  }
}

async function requestUntilEose(options: ClientOptions, filters: Filter[], timeoutMs: number): Promise<NostrEvent[]> {
  const connection = await connect(options, timeoutMs);
  const subscriptionId = `q${Math.random().toString(36).slice(2, 10)}`;
  try {
    const events: NostrEvent[] = [];
    const done = new Promise<void>((resolve, reject) => {
      connection.onMessage((message) => {
        if (message[1] !== subscriptionId) return;
        if (message[0] === 'EVENT') events.push(message[2] as NostrEvent);
        else if (message[0] === 'EOSE') resolve();
        else if (message[0] === 'CLOSED') reject(new Error(`CLOSED: ${String(message[2])}`));
      });
      connection.socket.once('close', () => reject(new Error('relay closed the connection before EOSE')));
    });
    connection.socket.send(JSON.stringify(['REQ', subscriptionId, ...filters]));
    await withTimeout(done, timeoutMs, 'waiting for EOSE');
    return events;
  } finally {
    connection.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`timed out ${what}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
