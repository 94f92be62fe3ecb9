/**
 * Keyset pagination with opaque cursors. A cursor is the sort key of the last row of a page,
 * base64url-encoded JSON; clients pass it back untouched. Pages fetch `limit + 1` rows to know
 * whether another page follows, so the last page says `next_cursor: null` without an extra query.
 */
import { and, asc, desc, eq, gt, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { invalid } from './errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface PageRequest {
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export function encodeCursor(key: Array<string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The cursor's key, or a 400 naming `query.cursor` when it was not made by this server. */
export function decodeCursor(cursor: string, length: number): Array<string | number> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === length && key.every((v) => typeof v === 'string' || typeof v === 'number')) {
      return key as Array<string | number>;
    }
  } catch {
    // fall through
  }
  throw invalid('query.cursor', 'invalid query.cursor: not a cursor returned by this API');
}

/** How a list is ordered: by a leading column (a timestamp) then the id, or by the id alone. */
export interface KeysetOrder {
  /** The leading sort column; absent: the id alone (UUIDv7, so creation order). */
  column?: PgColumn;
  /** How the leading column's value is read from a row and restored from a cursor. */
  kind?: 'date' | 'number' | 'string';
  id: PgColumn;
  direction: 'asc' | 'desc';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT4 = { min: -2_147_483_648, max: 2_147_483_647 };
/** Years 0001–9999: what timestamptz and a JS Date both hold. */
const DATE_RANGE_MS = { min: Date.UTC(1, 0, 1), max: Date.UTC(9999, 11, 31) };

const badCursor = () => invalid('query.cursor', 'invalid query.cursor: not a cursor returned by this API');

/** A decoded cursor's values checked against the columns they are compared with, so a forged one is a 400, not a database error. */
function checkedValue(order: KeysetOrder, raw: string | number): string | number | Date {
  if (order.kind === 'date') {
    const date = typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw) ? new Date(raw) : new Date(NaN);
    const ms = date.getTime();
    if (!(ms >= DATE_RANGE_MS.min && ms <= DATE_RANGE_MS.max)) throw badCursor();
    return date;
  }
  if (order.kind === 'number') {
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) throw badCursor();
    if (order.column?.columnType === 'PgInteger' && (raw < INT4.min || raw > INT4.max)) throw badCursor();
    return raw;
  }
  if (typeof raw !== 'string' || raw.includes('\u0000')) throw badCursor();
  return raw;
}

function checkedId(raw: string | number): string {
  if (typeof raw !== 'string' || !UUID.test(raw)) throw badCursor();
  return raw;
}

export function keysetWhere(order: KeysetOrder, cursor: string | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const after = order.direction === 'desc' ? lt : gt;
  if (!order.column) {
    const [id] = decodeCursor(cursor, 1);
    return after(order.id, checkedId(id!));
  }
  const [raw, rawId] = decodeCursor(cursor, 2);
  const value = checkedValue(order, raw!);
  const id = checkedId(rawId!);
  return or(after(order.column, value), and(eq(order.column, value), after(order.id, id)));
}

export function keysetOrderBy(order: KeysetOrder): SQL[] {
  const dir = order.direction === 'desc' ? desc : asc;
  return order.column ? [dir(order.column), dir(order.id)] : [dir(order.id)];
}

export function pageSize(request: PageRequest): number {
  return Math.min(Math.max(request.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
}

/** Cuts the `limit + 1` rows fetched into a page and the cursor of its last row. */
export function toPage<T>(rows: T[], limit: number, key: (row: T) => Array<string | number>): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(key(last)) : null };
}
