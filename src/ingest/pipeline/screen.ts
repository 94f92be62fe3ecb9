/**
 * The screen: the checks a value passes before dedupe and any crypto. Pure: the event, or what to
 * count it as. Ephemeral and expired events are dropped whoever signed them (never stored).
 */
import { checkEventShape } from '../../nostr/event-shape.js';
import { kindClass } from '../../nostr/kinds.js';
import { expirationOf, isExpired } from '../../nostr/normalize/nip40-expiration.js';
import type { NostrEvent } from '../../nostr/types.js';
import { unstorableReason } from '../../store/rows.js';

export interface ScreenLimits {
  maxFutureSeconds: number;
  maxEventBytes: number;
}

export type ScreenVerdict =
  | { ok: true; event: NostrEvent }
  /** Not stored and not an error: counted as ephemeral or expired. */
  | { ok: false; dropped: 'ephemeral' | 'expired' }
  /** Counted as invalid with this reason. */
  | { ok: false; rejected: string };

/** `bytes`: the size of the raw JSON when known (checked without re-serialising); `now` in unix seconds. */
export function screen(value: unknown, bytes: number | undefined, limits: ScreenLimits, now: number): ScreenVerdict {
  const shape = checkEventShape(value, {
    now,
    maxFutureSeconds: limits.maxFutureSeconds,
    maxEventBytes: limits.maxEventBytes,
    ...(bytes !== undefined ? { serializedBytes: bytes } : {}),
  });
  if (!shape.ok) return { ok: false, rejected: shape.reason };
  const event = shape.event;
  if (kindClass(event.kind) === 'ephemeral') return { ok: false, dropped: 'ephemeral' };
  if (isExpired(expirationOf(event), now)) return { ok: false, dropped: 'expired' };
  const unstorable = unstorableReason(event);
  if (unstorable) return { ok: false, rejected: unstorable };
  return { ok: true, event };
}
