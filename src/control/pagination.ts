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

export function keysetWhere(order: KeysetOrder, cursor: string | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const after = order.direction === 'desc' ? lt : gt;
  if (!order.column) {
    const [id] = decodeCursor(cursor, 1);
    return after(order.id, String(id));
  }
  const [raw, id] = decodeCursor(cursor, 2);
  const value = order.kind === 'date' ? new Date(String(raw)) : raw;
  if (value instanceof Date && Number.isNaN(value.getTime())) throw invalid('query.cursor', 'invalid query.cursor');
  return or(after(order.column, value), and(eq(order.column, value), after(order.id, String(id))));
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
