/**
 * NIP-01 shape check: the cheap, pure gate every event passes before dedupe and crypto. It rejects
 * what can never verify or store cleanly and returns a fresh object with only the seven NIP-01
 * fields, so extra keys a relay adds never reach the store.
 */
import type { NostrEvent } from './types.js';

/** Every reason an event fails the shape check, in check order (for per-reason counters). */
export const SHAPE_REJECT_REASONS = [
  'not_object',
  'too_large',
  'bad_id',
  'bad_pubkey',
  'bad_sig',
  'bad_kind',
  'bad_created_at',
  'bad_tags',
  'bad_content',
  'future',
] as const;

export type ShapeRejectReason = (typeof SHAPE_REJECT_REASONS)[number];

export type ShapeCheckResult =
  | { ok: true; event: NostrEvent }
  | { ok: false; reason: ShapeRejectReason };

export interface ShapeCheckOptions {
  /** Current time, unix seconds (passed in so the check stays pure). */
  now: number;
  /** How far in the future `created_at` may be (NIP-01 rules: 15 minutes by default). */
  maxFutureSeconds: number;
  /** Largest accepted event, in bytes of its JSON. */
  maxEventBytes: number;
  /** Byte length of the raw JSON the event came from, when the caller has it (saves a stringify). */
  serializedBytes?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
const MAX_KIND = 65535;

function isStringArrayArray(value: unknown): value is string[][] {
  if (!Array.isArray(value)) return false;
  for (const tag of value) {
    if (!Array.isArray(tag)) return false;
    for (const item of tag) if (typeof item !== 'string') return false;
  }
  return true;
}

export function checkEventShape(value: unknown, opts: ShapeCheckOptions): ShapeCheckResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not_object' };
  }
  // A known size is checked first: it is free and stops oversize input before any scan of it.
  if (opts.serializedBytes !== undefined && opts.serializedBytes > opts.maxEventBytes) {
    return { ok: false, reason: 'too_large' };
  }
  const v = value as Record<string, unknown>;
  const { id, pubkey, sig, kind, created_at, tags, content } = v;
  if (typeof id !== 'string' || !HEX64.test(id)) return { ok: false, reason: 'bad_id' };
  if (typeof pubkey !== 'string' || !HEX64.test(pubkey)) return { ok: false, reason: 'bad_pubkey' };
  if (typeof sig !== 'string' || !HEX128.test(sig)) return { ok: false, reason: 'bad_sig' };
  if (typeof kind !== 'number' || !Number.isSafeInteger(kind) || kind < 0 || kind > MAX_KIND) {
    return { ok: false, reason: 'bad_kind' };
  }
  if (typeof created_at !== 'number' || !Number.isSafeInteger(created_at) || created_at < 0) {
    return { ok: false, reason: 'bad_created_at' };
  }
  if (!isStringArrayArray(tags)) return { ok: false, reason: 'bad_tags' };
  if (typeof content !== 'string') return { ok: false, reason: 'bad_content' };
  if (created_at > opts.now + opts.maxFutureSeconds) return { ok: false, reason: 'future' };

  const event: NostrEvent = { id, pubkey, created_at, kind, tags, content, sig };
  if (
    opts.serializedBytes === undefined &&
    Buffer.byteLength(JSON.stringify(event), 'utf8') > opts.maxEventBytes
  ) {
    return { ok: false, reason: 'too_large' };
  }
  return { ok: true, event };
}
