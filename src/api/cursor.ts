/**
 * Opaque keyset cursors: base64url of a small JSON object holding the last row's sort key, the
 * reference time of score sorts, and a fingerprint of the filters, so a cursor replayed against
 * other filters or another sort is refused (400 naming `query.cursor`) instead of paging wrongly.
 */
import { ApiError } from './errors.js';

export interface CursorKey {
  /** created_at of the last row. */
  c: number;
  /** id of the last row. */
  i: string;
  /** Exact score text (top/hot). */
  s?: string;
  /** Reference time of hot scores and windows. */
  r?: number;
  /** hot: the stored snapshot (hot_ranking generation) the first page was read from. */
  g?: number;
}

interface CursorPayload extends CursorKey {
  /** Filter fingerprint. */
  f: string;
}

/** FNV-1a of the canonical JSON of the filters, as 8 hex digits. */
export function fingerprint(filters: Record<string, unknown>): string {
  const text = JSON.stringify(Object.keys(filters).sort().map((k) => [k, filters[k] ?? null]));
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

export function encodeCursor(key: CursorKey, filters: Record<string, unknown>): string {
  const payload: CursorPayload = { ...key, f: fingerprint(filters) };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

function invalid(message: string): ApiError {
  return new ApiError(400, 'bad_request', `invalid query.cursor: ${message}`, {
    issues: [{ field: 'query.cursor', message }],
  });
}

const ID = /^[0-9a-f]{64}$/;
const SCORE = /^-?\d{1,20}(\.\d{1,12})?$/;

/** Decodes a cursor made by encodeCursor for the same filters; throws a 400 otherwise. */
export function decodeCursor(
  cursor: string,
  filters: Record<string, unknown>,
  options: { score?: boolean; id?: RegExp } = {},
): CursorKey {
  const needsScore = options.score === true;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a cursor returned by this endpoint');
  }
  const p = payload as Partial<CursorPayload> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    !Number.isSafeInteger(p.c) ||
    typeof p.i !== 'string' ||
    !(options.id ?? ID).test(p.i) ||
    typeof p.f !== 'string'
  ) {
    throw invalid('not a cursor returned by this endpoint');
  }
  if (p.f !== fingerprint(filters)) throw invalid('the cursor belongs to other filters or another sort');
  if (needsScore && (typeof p.s !== 'string' || !SCORE.test(p.s) || !Number.isSafeInteger(p.r))) {
    throw invalid('not a cursor returned by this endpoint');
  }
  if (p.g !== undefined && (!needsScore || !Number.isSafeInteger(p.g) || (p.g as number) < 1)) {
    throw invalid('not a cursor returned by this endpoint');
  }
  const key: CursorKey = { c: p.c as number, i: p.i };
  if (needsScore) {
    key.s = p.s as string;
    key.r = p.r as number;
    if (p.g !== undefined) key.g = p.g;
  }
  return key;
}
