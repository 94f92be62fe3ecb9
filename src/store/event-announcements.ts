/**
 * Committed events announce their ids (migration 0006: a statement trigger on nostr_events sends
 * "<ms since epoch>:<id>,<id>,..." in chunks of 100 on this channel, delivered at commit). The
 * relay endpoint's live subscriptions follow it, in whichever process wrote the events.
 */
export const EVENTS_CHANNEL = 'nostr_cache_events';

export interface EventAnnouncement {
  /** When the trigger ran (just before commit), ms since epoch: the start of fan-out latency. */
  announcedAtMs: number;
  ids: string[];
}

/** Null for a payload this version does not understand (never thrown on: it comes from the database). */
export function parseAnnouncement(payload: string): EventAnnouncement | null {
  const colon = payload.indexOf(':');
  if (colon <= 0) return null;
  const announcedAtMs = Number(payload.slice(0, colon));
  const ids = payload.slice(colon + 1).split(',').filter((id) => /^[0-9a-f]{64}$/.test(id));
  if (!Number.isFinite(announcedAtMs) || ids.length === 0) return null;
  return { announcedAtMs, ids };
}
