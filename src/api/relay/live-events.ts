/**
 * Committed events as they happen, for every live reader in this process (relay subscriptions, the
 * feed's server-sent events). One LISTEN on the events channel (store/event-announcements.ts, fed
 * by a trigger in whichever process wrote); each announcement's ids are read back once, as served
 * (an event deleted or expired meanwhile is not delivered), and handed to every listener.
 *
 * While the channel is down, announcements are lost: listeners are told (`interrupted`), so a relay
 * subscription can be closed with a reason instead of silently missing events.
 */
import type { Database } from '../../db/client.js';
import type { Channel, PostgresChannelOptions } from '../../db/listen.js';
import type { Logger } from '../../log.js';
import { EVENTS_CHANNEL, parseAnnouncement } from '../../store/event-announcements.js';
import { liveEventsByIds, searchMatchesAmong, type LiveEvent, type RelayFilter } from '../../store/queries/relay-filter.js';
import { MatchIndex } from './match-index.js';

export interface LiveListener {
  /** Committed, served events; `announcedAtMs` per event id (when its commit announced it). */
  deliver?(events: readonly LiveEvent[], announcedAtMs: ReadonlyMap<string, number>): void;
  /** Events may have been missed (the channel went down). */
  interrupted(reason: string): void;
}

/** Receives the committed events that may match the filters it watches (candidates: match exactly). */
export type LiveWatcher = (events: LiveEvent[], announcedAtMs: ReadonlyMap<string, number>) => void;

export class LiveEvents {
  private readonly listeners = new Set<LiveListener>();
  /** Relay subscriptions by what their filters require: a commit reaches only its candidates. */
  private readonly watchers = new MatchIndex<LiveWatcher>();
  /** Ids announced and not read yet, with their announcement time. */
  private pending = new Map<string, number>();
  private reading = false;
  private channel: Channel | null = null;

  private constructor(
    private readonly database: Database,
    private readonly log: Logger,
  ) {}

  static async open(database: Database, log: Logger, channelOptions?: PostgresChannelOptions): Promise<LiveEvents> {
    const live = new LiveEvents(database, log);
    live.channel = await database.listen(
      EVENTS_CHANNEL,
      {
        onNotify: (payload) => live.announced(payload),
        onUp: () => log.info({ channel: EVENTS_CHANNEL }, 'live events: listening for commits'),
        onDown: (reason) => {
          log.warn({ channel: EVENTS_CHANNEL, reason }, 'live events interrupted');
          for (const l of live.listeners) l.interrupted(reason);
        },
      },
      channelOptions,
    );
    return live;
  }

  get up(): boolean {
    return this.channel?.up ?? false;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Returns the function that stops listening. */
  listen(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Calls `watcher` with the committed events that may match `filters` (each watcher once per
   * batch, events in commit order). Returns the function that stops watching.
   */
  watch(filters: readonly RelayFilter[], watcher: LiveWatcher): () => void {
    this.watchers.add(watcher, filters);
    return () => this.watchers.remove(watcher);
  }

  /** Which of `ids` a NIP-50 search matches (search subscriptions cannot be matched in memory). */
  searchMatches(ids: readonly string[], search: string): Promise<Set<string>> {
    return searchMatchesAmong(this.database.reads, ids, search);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    for (const w of this.watchers.items()) this.watchers.remove(w);
    await this.channel?.close();
  }

  private announced(payload: string): void {
    const announcement = parseAnnouncement(payload);
    if (!announcement || (this.listeners.size === 0 && this.watchers.size === 0)) return;
    for (const id of announcement.ids) if (!this.pending.has(id)) this.pending.set(id, announcement.announcedAtMs);
    void this.readPending();
  }

  private toWatchers(events: readonly LiveEvent[], announcedAtMs: ReadonlyMap<string, number>): void {
    if (this.watchers.size === 0) return;
    const byWatcher = new Map<LiveWatcher, LiveEvent[]>();
    const candidates = new Set<LiveWatcher>();
    for (const e of events) {
      candidates.clear();
      this.watchers.candidates(e, candidates);
      for (const w of candidates) {
        const list = byWatcher.get(w);
        if (list) list.push(e);
        else byWatcher.set(w, [e]);
      }
    }
    for (const [w, list] of byWatcher) {
      try {
        w(list, announcedAtMs);
      } catch (error) {
        this.log.error({ err: error }, 'live watcher failed');
      }
    }
  }

  /** One read at a time; announcements arriving meanwhile are read together next. */
  private async readPending(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      while (this.pending.size > 0) {
        const batch = this.pending;
        this.pending = new Map();
        const ids = [...batch.keys()];
        for (let i = 0; i < ids.length; i += 500) {
          const events = await liveEventsByIds(this.database.reads, ids.slice(i, i + 500), Math.floor(Date.now() / 1000));
          if (events.length === 0) continue;
          this.toWatchers(events, batch);
          for (const l of this.listeners) {
            try {
              l.deliver?.(events, batch);
            } catch (error) {
              this.log.error({ err: error }, 'live listener failed');
            }
          }
        }
      }
    } catch (error) {
      this.log.error({ err: error }, 'live events: reading announced events failed');
      for (const l of this.listeners) l.interrupted('reading announced events failed');
    } finally {
      this.reading = false;
    }
  }
}
