/**
 * Replay relay for the ingest benchmark (bench/ingest.ts): serves a fixed JSONL file of signed
 * events over NIP-01 as fast as the client reads, so the client (the daemon) is what is measured.
 *
 * - Every event stays as the exact bytes of its line in one Buffer; an EVENT frame is that slice
 *   between a per-REQ prefix and `]`, sent as a text frame without re-serialising or re-encoding.
 * - REQ filters (ids, authors, kinds, since, until, limit, #<letter>) are answered from indexes:
 *   events sorted newest first (equal created_at: lowest id first, as NIP-01 says for `limit`),
 *   plus a list per kind, so a backfill page costs a binary search and a short scan.
 * - `limit` is honoured per filter; without one every match is sent (unless `maxLimit` clamps, as
 *   a relay's NIP-11 max_limit does). EOSE follows; the subscription then stays open (nothing new
 *   ever arrives) until CLOSE or disconnect.
 * - No NIP-77: NEG-OPEN gets the NOTICE a relay without it sends, so backfill pages with `until`.
 * - Writes respect backpressure: frames are queued while the socket's buffered bytes stay under a
 *   high-water mark, then the sender waits for `drain`, so memory stays flat at any read rate.
 *
 * CLI (also forked by bench/ingest.ts, which talks to it over IPC):
 *   npx tsx bench/replay-relay.ts --file bench/.data/events-100k.jsonl [--relays 3] [--max-events N]
 *     [--max-limit N] [--host 127.0.0.1] [--port 0]
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Filter } from 'nostr-tools/filter';
import { WebSocket, WebSocketServer } from 'ws';

/** A prepared filter: sets for the list fields, so matching is O(tags) per event. */
interface Prepared {
  ids: Set<string> | null;
  authors: Set<string> | null;
  kinds: number[] | null;
  tags: Array<{ name: string; values: Set<string> }>;
  since: number;
  until: number;
  limit: number;
}

export interface QueryCounts {
  /** Events matching at least one filter. */
  matched: number;
  /** Per filter, events it matches (their sum exceeds `matched` when filters overlap). */
  perFilter: number[];
}

export class ReplayStore {
  /** Events by position: 0 is the newest. */
  readonly size: number;
  private readonly data: Buffer;
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly createdAt: Float64Array;
  private readonly kind: Int32Array;
  private readonly id: string[];
  private readonly pubkey: string[];
  /** Single-letter tags only (the only ones filters can name), flat: name, value, name, value… */
  private readonly tags: string[][];
  private readonly all: Int32Array;
  private readonly byKind = new Map<number, Int32Array>();
  private byId: Map<string, number> | null = null;

  private constructor(data: Buffer, maxEvents: number) {
    this.data = data;
    // Only what filters need is kept per event (content, signatures and long tags stay in `data`).
    const lines: Array<{ start: number; end: number; event: IndexedEvent }> = [];
    let pos = 0;
    while (pos < data.length && lines.length < maxEvents) {
      let nl = data.indexOf(10, pos);
      if (nl < 0) nl = data.length;
      let end = nl;
      if (end > pos && data[end - 1] === 13) end--;
      if (end > pos) {
        const lineNo = lines.length + 1;
        lines.push({ start: pos, end, event: indexed(data.toString('utf8', pos, end), lineNo) });
      }
      pos = nl + 1;
    }
    lines.sort((a, b) => b.event.created_at - a.event.created_at || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
    const n = lines.length;
    this.size = n;
    this.start = new Float64Array(n);
    this.end = new Float64Array(n);
    this.createdAt = new Float64Array(n);
    this.kind = new Int32Array(n);
    this.id = new Array<string>(n);
    this.pubkey = new Array<string>(n);
    this.tags = new Array<string[]>(n);
    this.all = new Int32Array(n);
    const kindLists = new Map<number, number[]>();
    lines.forEach((line, p) => {
      const e = line.event;
      this.start[p] = line.start;
      this.end[p] = line.end;
      this.createdAt[p] = e.created_at;
      this.kind[p] = e.kind;
      this.id[p] = e.id;
      this.pubkey[p] = e.pubkey;
      this.tags[p] = e.tags;
      this.all[p] = p;
      let list = kindLists.get(e.kind);
      if (!list) kindLists.set(e.kind, (list = []));
      list.push(p);
    });
    for (const [k, list] of kindLists) this.byKind.set(k, Int32Array.from(list));
  }

  /** One event per line (NIP-01 JSON); `maxEvents` keeps the first lines of the file. */
  static fromFile(path: string, maxEvents = Infinity): ReplayStore {
    return new ReplayStore(readFileSync(path), maxEvents);
  }

  static fromEvents(events: object[]): ReplayStore {
    return new ReplayStore(Buffer.from(events.map((e) => JSON.stringify(e)).join('\n')), Infinity);
  }

  /** The event's JSON exactly as stored in the file. */
  raw(position: number): Buffer {
    return this.data.subarray(this.start[position]!, this.end[position]!);
  }

  get bytes(): number {
    let total = 0;
    for (let p = 0; p < this.size; p++) total += this.end[p]! - this.start[p]!;
    return total;
  }

  createdAtRange(): { min: number; max: number } | null {
    return this.size === 0 ? null : { min: this.createdAt[this.size - 1]!, max: this.createdAt[0]! };
  }

  /** Positions answering a REQ: the union of each filter's matches (each capped by its limit), newest first. */
  query(filters: Filter[], maxLimit = Infinity): number[] {
    if (filters.length === 1) return this.queryOne(filters[0]!, maxLimit);
    const union = new Set<number>();
    for (const f of filters) for (const p of this.queryOne(f, maxLimit)) union.add(p);
    return [...union].sort((a, b) => a - b);
  }

  /** How many events the filters match, with no limit (the bench checks its scopes cover the file). */
  count(filters: Filter[]): QueryCounts {
    const unlimited = filters.map((f) => ({ ...f, limit: undefined }));
    return { matched: this.query(unlimited).length, perFilter: unlimited.map((f) => this.queryOne(f, Infinity).length) };
  }

  private queryOne(filter: Filter, maxLimit: number): number[] {
    const f = prepare(filter, maxLimit);
    const out: number[] = [];
    if (f.limit <= 0 || f.since > f.until) return out;
    let lists: Int32Array[];
    if (f.ids) {
      const byId = (this.byId ??= new Map(this.id.map((id, p) => [id, p])));
      const found = [...f.ids].map((id) => byId.get(id)).filter((p): p is number => p !== undefined);
      lists = [Int32Array.from(found.sort((a, b) => a - b))];
    } else if (f.kinds) {
      lists = f.kinds.map((k) => this.byKind.get(k) ?? new Int32Array(0));
    } else {
      lists = [this.all];
    }
    // Each list is newest first: start every cursor at its first event not newer than `until`,
    // then merge by position (global newest-first order) until `since` or `limit`.
    const cursors = lists.map((list) => this.firstAtOrBefore(list, f.until));
    for (;;) {
      let best = -1;
      for (let i = 0; i < lists.length; i++) {
        const c = cursors[i]!;
        if (c < lists[i]!.length && (best < 0 || lists[i]![c]! < lists[best]![cursors[best]!]!)) best = i;
      }
      if (best < 0) break;
      const p = lists[best]![cursors[best]!]!;
      cursors[best]!++;
      if (this.createdAt[p]! < f.since) {
        cursors[best] = lists[best]!.length; // everything after it is older still
        continue;
      }
      if (this.matches(p, f)) {
        out.push(p);
        if (out.length >= f.limit) break;
      }
    }
    return out;
  }

  private firstAtOrBefore(list: Int32Array, until: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.createdAt[list[mid]!]! > until) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private matches(p: number, f: Prepared): boolean {
    if (f.ids && !f.ids.has(this.id[p]!)) return false;
    if (f.authors && !f.authors.has(this.pubkey[p]!)) return false;
    if (f.kinds && !f.kinds.includes(this.kind[p]!)) return false;
    const tags = this.tags[p]!;
    for (const { name, values } of f.tags) {
      let hit = false;
      for (let i = 0; i < tags.length && !hit; i += 2) hit = tags[i] === name && values.has(tags[i + 1]!);
      if (!hit) return false;
    }
    return true;
  }
}

interface IndexedEvent {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  /** Single-letter tags, flat. */
  tags: string[];
}

function indexed(line: string, lineNo: number): IndexedEvent {
  const e = JSON.parse(line) as { id?: unknown; pubkey?: unknown; created_at?: unknown; kind?: unknown; tags?: unknown } | null;
  if (
    !e ||
    typeof e.id !== 'string' ||
    typeof e.pubkey !== 'string' ||
    typeof e.created_at !== 'number' ||
    typeof e.kind !== 'number' ||
    !Array.isArray(e.tags)
  ) {
    throw new Error(`line ${lineNo}: not a NIP-01 event`);
  }
  const tags: string[] = [];
  for (const t of e.tags as unknown[]) {
    if (Array.isArray(t) && typeof t[0] === 'string' && t[0].length === 1 && typeof t[1] === 'string') tags.push(t[0], t[1]);
  }
  return { id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags };
}

function prepare(filter: Filter, maxLimit: number): Prepared {
  const tags: Prepared['tags'] = [];
  for (const [key, value] of Object.entries(filter)) {
    // Only single-letter tags are kept per event, so a longer tag name matches nothing (NIP-01).
    if (key[0] === '#' && Array.isArray(value)) tags.push({ name: key.slice(1), values: new Set(value as string[]) });
  }
  const limit = typeof filter.limit === 'number' ? filter.limit : Infinity;
  return {
    ids: Array.isArray(filter.ids) ? new Set(filter.ids) : null,
    authors: Array.isArray(filter.authors) ? new Set(filter.authors) : null,
    kinds: Array.isArray(filter.kinds) ? filter.kinds : null,
    tags,
    since: typeof filter.since === 'number' ? filter.since : -Infinity,
    until: typeof filter.until === 'number' ? filter.until : Infinity,
    limit: Math.min(limit, maxLimit),
  };
}

// ── the relay ──────────────────────────────────────────────────────────────────────────────

export interface ReplayRelayOptions {
  store: ReplayStore;
  host?: string;
  port?: number;
  /** Clamp on every filter's limit (and the limit of filters without one), like NIP-11 max_limit. */
  maxLimit?: number;
  /** Buffered bytes on a socket above which sending waits for `drain`; default 1 MiB. */
  highWaterBytes?: number;
}

export interface ReplayStats {
  connections: number;
  reqs: number;
  /** REQs whose EOSE was sent (or that were closed before). */
  reqsDone: number;
  eventsSent: number;
  bytesSent: number;
  /** Date.now() of the first REQ since the last reset. */
  firstReqAt: number | null;
  lastEoseAt: number | null;
}

export const emptyStats = (): ReplayStats => ({
  connections: 0,
  reqs: 0,
  reqsDone: 0,
  eventsSent: 0,
  bytesSent: 0,
  firstReqAt: null,
  lastEoseAt: null,
});

/** Frames sent between checks of the socket's buffered bytes (ws corks each frame; we cork runs). */
const FRAMES_PER_CORK = 256;

export class ReplayRelay {
  stats: ReplayStats = emptyStats();
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly maxLimit: number;
  private readonly highWater: number;

  constructor(private readonly options: ReplayRelayOptions) {
    this.maxLimit = options.maxLimit ?? Infinity;
    this.highWater = options.highWaterBytes ?? 1 << 20;
    this.http = createServer((req, res) => {
      // NIP-11, so the daemon's relay-information fetch gets an answer.
      if ((req.headers.accept ?? '').includes('application/nostr+json')) {
        const limitation = Number.isFinite(this.maxLimit) ? { max_limit: this.maxLimit } : {};
        res.writeHead(200, { 'content-type': 'application/nostr+json', 'access-control-allow-origin': '*' });
        res.end(JSON.stringify({ name: 'nostr-cache replay relay', software: 'bench/replay-relay.ts', supported_nips: [1, 11], limitation }));
      } else {
        res.writeHead(404).end();
      }
    });
    this.wss = new WebSocketServer({ server: this.http, perMessageDeflate: false });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req.socket));
  }

  async listen(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolveListen, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port ?? 0, host, () => resolveListen());
    });
    const address = this.http.address();
    if (address === null || typeof address === 'string') throw new Error('replay relay: no TCP address');
    return `ws://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private onConnection(ws: WebSocket, socket: Socket): void {
    this.stats.connections++;
    const subs = new Map<string, { cancelled: boolean }>();
    ws.on('message', (data, isBinary) => {
      let msg: unknown;
      try {
        msg = isBinary ? null : JSON.parse(data.toString());
      } catch {
        msg = null;
      }
      if (!Array.isArray(msg) || typeof msg[0] !== 'string') return void ws.send('["NOTICE","invalid: expected a JSON array"]');
      const [type, subId] = msg as [string, unknown];
      if (type === 'CLOSE' && typeof subId === 'string') {
        const sub = subs.get(subId);
        if (sub) sub.cancelled = true;
        subs.delete(subId);
        return;
      }
      if (type === 'EVENT') {
        const id = (subId as { id?: unknown } | null)?.id;
        return void ws.send(JSON.stringify(['OK', typeof id === 'string' ? id : '', false, 'blocked: read-only replay relay']));
      }
      if (type !== 'REQ' || typeof subId !== 'string') return void ws.send(JSON.stringify(['NOTICE', `unsupported: ${type}`]));
      const filters = msg.slice(2) as Filter[];
      if (filters.length === 0 || filters.some((f) => typeof f !== 'object' || f === null || Array.isArray(f))) {
        return void ws.send(JSON.stringify(['CLOSED', subId, 'invalid: bad filter']));
      }
      const previous = subs.get(subId);
      if (previous) previous.cancelled = true; // a REQ with a live id replaces that subscription
      const sub = { cancelled: false };
      subs.set(subId, sub);
      this.stats.reqs++;
      if (this.stats.firstReqAt === null) {
        this.stats.firstReqAt = Date.now();
        // The parent starts its clocks here (the daemon's startup and migrations are not measured).
        process.send?.({ type: 'req', at: this.stats.firstReqAt });
      }
      const positions = this.options.store.query(filters, this.maxLimit);
      this.stream(ws, socket, subId, sub, positions).catch(() => {});
    });
    ws.on('close', () => {
      for (const sub of subs.values()) sub.cancelled = true;
      subs.clear();
    });
    ws.on('error', () => {});
  }

  private async stream(ws: WebSocket, socket: Socket, subId: string, sub: { cancelled: boolean }, positions: number[]): Promise<void> {
    const prefix = Buffer.from(`["EVENT",${JSON.stringify(subId)},`);
    const suffix = Buffer.from(']');
    const store = this.options.store;
    let i = 0;
    try {
      while (i < positions.length) {
        if (sub.cancelled || ws.readyState !== WebSocket.OPEN) return;
        // Cork a run of frames into few writes; stop the run early once the socket is backed up.
        socket.cork();
        const stop = Math.min(positions.length, i + FRAMES_PER_CORK);
        for (; i < stop; i++) {
          const raw = store.raw(positions[i]!);
          const frame = Buffer.concat([prefix, raw, suffix], prefix.length + raw.length + 1);
          ws.send(frame, { binary: false });
          this.stats.eventsSent++;
          this.stats.bytesSent += frame.length;
          if (ws.bufferedAmount > this.highWater) {
            i++;
            break;
          }
        }
        socket.uncork();
        if (ws.bufferedAmount > this.highWater) await drained(ws, socket);
        else if (i < positions.length) await new Promise<void>((r) => setImmediate(r)); // let other REQs and CLOSEs in
      }
      if (sub.cancelled || ws.readyState !== WebSocket.OPEN) return;
      ws.send(`["EOSE",${JSON.stringify(subId)}]`);
      this.stats.lastEoseAt = Date.now();
    } finally {
      this.stats.reqsDone++;
    }
  }
}

function drained(ws: WebSocket, socket: Socket): Promise<void> {
  return new Promise<void>((resolveDrain) => {
    const done = () => {
      socket.off('drain', done);
      ws.off('close', done);
      resolveDrain();
    };
    socket.on('drain', done);
    ws.on('close', done);
  });
}

// ── CLI / IPC ──────────────────────────────────────────────────────────────────────────────

/** Messages a parent (bench/ingest.ts) exchanges with a forked replay relay. */
export type ReplayRequest =
  | { type: 'stats' }
  | { type: 'reset' }
  | { type: 'count'; filters: Filter[] }
  | { type: 'shutdown' };

export type ReplayMessage =
  | { type: 'ready'; urls: string[]; events: number; bytes: number; minCreatedAt: number | null; maxCreatedAt: number | null; loadSeconds: number }
  | { type: 'req'; at: number }
  | { type: 'stats'; stats: ReplayStats }
  | { type: 'count'; counts: QueryCounts };

function sumStats(relays: ReplayRelay[]): ReplayStats {
  const total = emptyStats();
  for (const { stats } of relays) {
    total.connections += stats.connections;
    total.reqs += stats.reqs;
    total.reqsDone += stats.reqsDone;
    total.eventsSent += stats.eventsSent;
    total.bytesSent += stats.bytesSent;
    if (stats.firstReqAt !== null) total.firstReqAt = Math.min(total.firstReqAt ?? Infinity, stats.firstReqAt);
    if (stats.lastEoseAt !== null) total.lastEoseAt = Math.max(total.lastEoseAt ?? 0, stats.lastEoseAt);
  }
  return total;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      relays: { type: 'string', default: '1' },
      'max-events': { type: 'string' },
      'max-limit': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
    },
  });
  if (!values.file) throw new Error('--file is required');
  const t0 = performance.now();
  const store = ReplayStore.fromFile(values.file, values['max-events'] ? Number(values['max-events']) : Infinity);
  const loadSeconds = (performance.now() - t0) / 1000;
  const relays: ReplayRelay[] = [];
  const urls: string[] = [];
  const basePort = Number(values.port);
  for (let i = 0; i < Number(values.relays); i++) {
    const relay = new ReplayRelay({
      store,
      host: values.host,
      port: basePort === 0 ? 0 : basePort + i,
      ...(values['max-limit'] ? { maxLimit: Number(values['max-limit']) } : {}),
    });
    urls.push(await relay.listen());
    relays.push(relay);
  }
  const range = store.createdAtRange();
  const ready: ReplayMessage = {
    type: 'ready',
    urls,
    events: store.size,
    bytes: store.bytes,
    minCreatedAt: range?.min ?? null,
    maxCreatedAt: range?.max ?? null,
    loadSeconds,
  };
  const shutdown = async () => {
    await Promise.all(relays.map((r) => r.close()));
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  if (!process.send) {
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    return;
  }
  // Forked: never outlive the parent.
  process.on('disconnect', () => void shutdown());
  process.on('message', (m: ReplayRequest) => {
    const reply = (msg: ReplayMessage) => process.send?.(msg);
    if (m.type === 'stats') reply({ type: 'stats', stats: sumStats(relays) });
    else if (m.type === 'reset') for (const r of relays) r.stats = emptyStats();
    else if (m.type === 'count') reply({ type: 'count', counts: store.count(m.filters) });
    else if (m.type === 'shutdown') void shutdown();
  });
  process.send(ready);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`replay relay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
