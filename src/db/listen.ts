/**
 * LISTEN on one channel, with a truthful up/down signal: a listener that silently stopped hearing
 * notifications is worse than none, because whoever relies on it (the response cache) would keep
 * serving what a write has changed.
 *
 * - PGlite runs in this process: notifications are delivered when the notifying transaction
 *   commits, before its COMMIT returns, and the channel is up for as long as the database is open.
 * - A Postgres server: a client of its own (never the pool, whose queue would delay it) LISTENs.
 *   A heartbeat sent through the server every second must come back before the next one: when it
 *   does not (connection lost, half-open socket, LISTEN not re-established), the channel is down and
 *   the client is replaced, backing off from 250 ms to 5 s. When the driver re-establishes a lost
 *   LISTEN by itself, that is reported as down then up, since notifications were lost in between.
 */
import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';

export interface ChannelHandlers {
  onNotify(payload: string): void;
  /** Listening (first time or again). Notifications sent while down were lost. */
  onUp(): void;
  /** Notifications may be missed from now on until the next onUp. */
  onDown(reason: string): void;
}

export interface Channel {
  readonly up: boolean;
  close(): Promise<void>;
}

export interface PostgresChannelOptions {
  /** How often the connection proves it still receives (a heartbeat round trip). */
  heartbeatMs?: number;
  /** First reconnection delay; doubles up to 5 s. */
  retryMs?: number;
}

const MAX_RETRY_MS = 5_000;

export async function listenPglite(client: PGlite, channel: string, handlers: ChannelHandlers): Promise<Channel> {
  let up = false;
  const unlisten = await client.listen(channel, (payload) => handlers.onNotify(payload));
  up = true;
  handlers.onUp();
  return {
    get up() {
      return up;
    },
    async close() {
      if (!up) return;
      up = false;
      await unlisten();
    },
  };
}

/** Starts listening in the background; `onUp` tells when it is. Never throws for an unreachable server. */
export function listenPostgres(url: string, channel: string, handlers: ChannelHandlers, options: PostgresChannelOptions = {}): Channel {
  return new PostgresChannel(url, channel, handlers, options);
}

class PostgresChannel implements Channel {
  private client: postgres.Sql | null = null;
  private listening = false;
  private closed = false;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Sequence number of the heartbeat awaited, if any. */
  private awaiting: string | null = null;
  private sequence = 0;
  /** Heartbeats go to a channel of this listener's own, so other processes never see them. */
  private readonly heartbeatChannel = `nostr_cache_heartbeat_${randomBytes(8).toString('hex')}`;
  private readonly heartbeatMs: number;
  private readonly firstRetryMs: number;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly handlers: ChannelHandlers,
    options: PostgresChannelOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    this.firstRetryMs = options.retryMs ?? 250;
    this.retryMs = this.firstRetryMs;
    void this.connect();
  }

  get up(): boolean {
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    this.listening = false;
    await this.dropClient();
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (this.closed) return;
    // One client per attempt: postgres.js gives its LISTENs a connection of their own, re-issues
    // them after a reconnect (calling onlisten again), and ends it with the client.
    const client = postgres(this.url, {
      max: 1,
      max_lifetime: null,
      fetch_types: false,
      connect_timeout: 10,
      onnotice: () => {},
      connection: { application_name: 'nostr-cache-listen' },
    });
    this.client = client;
    try {
      await client.listen(this.heartbeatChannel, (payload) => {
        if (client === this.client && payload === this.awaiting) this.awaiting = null;
      });
      await client.listen(
        this.channel,
        (payload) => {
          if (client === this.client) this.handlers.onNotify(payload);
        },
        () => this.listened(client),
      );
    } catch (error) {
      this.lost(client, `listen failed: ${(error as Error).message}`);
    }
  }

  /** LISTEN took effect: the first time, or again after the driver lost and replaced its connection. */
  private listened(client: postgres.Sql): void {
    if (client !== this.client || this.closed) return;
    // Listening again means the connection was lost for a while: what was sent meanwhile is gone.
    if (this.listening) this.handlers.onDown('listen connection was re-established');
    this.listening = true;
    this.retryMs = this.firstRetryMs;
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(client), this.heartbeatMs);
    this.heartbeatTimer.unref();
    this.handlers.onUp();
  }

  private heartbeat(client: postgres.Sql): void {
    if (this.awaiting !== null) {
      // Judged after pending socket reads are processed, so a busy event loop is not mistaken for
      // a dead connection when the reply is already waiting.
      const late = this.awaiting;
      setImmediate(() => {
        if (this.awaiting === late) this.lost(client, `heartbeat not back within ${this.heartbeatMs} ms`);
      });
      return;
    }
    const sequence = String(++this.sequence);
    this.awaiting = sequence;
    client.notify(this.heartbeatChannel, sequence).catch((error: unknown) => {
      this.lost(client, `heartbeat failed: ${(error as Error).message}`);
    });
  }

  /** `client` can no longer be trusted to hear everything: report down, drop it, start over later. */
  private lost(client: postgres.Sql, reason: string): void {
    if (client !== this.client || this.closed) return;
    const wasListening = this.listening;
    this.listening = false;
    this.stopHeartbeat();
    void this.dropClient();
    if (wasListening) this.handlers.onDown(reason);
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.awaiting = null;
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = null;
    // Its sockets may already be gone; ending it must not raise anything nobody awaits.
    await client?.end({ timeout: 0 }).catch(() => {});
  }
}

