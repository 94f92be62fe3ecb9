/**
 * A client's NIP-01 filter (JSON) checked and turned into the store's RelayFilter, or refused with
 * the NIP-01 reason prefix a CLOSED carries (`invalid:` for malformed, `unsupported:` for what no
 * index serves). Pure.
 */
import { drivingIndex, MAX_INDEXED_TAG_VALUE_BYTES, type RelayFilter } from '../../store/queries/relay-filter.js';
import type { RelayLimits } from '../../nostr/relay-limits.js';

export type FilterCheck = { ok: true; filter: RelayFilter } | { ok: false; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;
const TAG_KEY = /^#[a-zA-Z]$/;
const MAX_TIMESTAMP = 2 ** 53 - 1;

function hexList(value: unknown, field: string): string[] | string {
  if (!Array.isArray(value)) return `invalid: ${field} must be an array`;
  for (const v of value) if (typeof v !== 'string' || !HEX64.test(v)) return `invalid: ${field} must hold 64-character lowercase hex strings`;
  return [...new Set(value as string[])];
}

function isTimestamp(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TIMESTAMP;
}

export function parseFilter(raw: unknown, limits: RelayLimits): FilterCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'invalid: a filter must be a JSON object' };
  const filter: RelayFilter = { tags: [] };
  let values = 0;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (key === 'ids' || key === 'authors') {
      const list = hexList(value, key);
      if (typeof list === 'string') return { ok: false, reason: list };
      filter[key] = list;
      values += list.length;
    } else if (key === 'kinds') {
      if (!Array.isArray(value) || !value.every((k) => Number.isInteger(k) && k >= 0 && k <= 65535)) {
        return { ok: false, reason: 'invalid: kinds must be integers from 0 to 65535' };
      }
      filter.kinds = [...new Set(value as number[])];
      values += filter.kinds.length;
    } else if (key === 'since' || key === 'until') {
      if (!isTimestamp(value)) return { ok: false, reason: `invalid: ${key} must be a non-negative integer` };
      filter[key] = value;
    } else if (key === 'limit') {
      if (!isTimestamp(value)) return { ok: false, reason: 'invalid: limit must be a non-negative integer' };
      filter.limit = value;
    } else if (key === 'search') {
      if (typeof value !== 'string') return { ok: false, reason: 'invalid: search must be a string' };
      filter.search = value;
    } else if (key.startsWith('#')) {
      if (!TAG_KEY.test(key)) return { ok: false, reason: `unsupported: only single-letter tag filters are indexed (${key.slice(0, 20)})` };
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return { ok: false, reason: `invalid: ${key} must be an array of strings` };
      const tagValues = [...new Set(value as string[])];
      if (tagValues.some((v) => Buffer.byteLength(v) > MAX_INDEXED_TAG_VALUE_BYTES)) {
        return { ok: false, reason: `unsupported: tag values longer than ${MAX_INDEXED_TAG_VALUE_BYTES} bytes are not indexed` };
      }
      filter.tags.push({ name: key.slice(1), values: tagValues });
      values += tagValues.length;
    }
    // Other keys are not NIP-01 fields; ignored, as relays commonly do.
  }
  if (values > limits.maxFilterValues) return { ok: false, reason: `invalid: a filter may hold at most ${limits.maxFilterValues} values (got ${values})` };
  if (drivingIndex(filter) === null) {
    return { ok: false, reason: 'unsupported: a filter needs ids, authors, kinds, a #tag or search (no index serves a scan of every event)' };
  }
  return { ok: true, filter };
}

/** The limit a filter's stored answer is clamped to. */
export function effectiveLimit(filter: RelayFilter, limits: RelayLimits): number {
  return Math.min(filter.limit ?? limits.maxLimit, limits.maxLimit);
}
