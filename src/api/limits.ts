/**
 * The database's limits as input rules, in one place, so a value the columns cannot hold is a 400
 * naming the field instead of a database error: integers within int4/int8 (and JavaScript's exact
 * range), calendar dates Postgres accepts, numbers a float4 can hold, and text without U+0000
 * (Postgres text and jsonb cannot store it). Schemas import these instead of bare z.number().
 *
 * U+0000 is refused, not stripped: no field of the control plane or the read API is one where a NUL
 * can mean anything, and silently changing what a client sent would make a later lookup of the same
 * value miss. `findNul` walks a whole request (path, query, JSON body) so no schema can forget it.
 */
import { z } from '@hono/zod-openapi';

export const INT4_MIN = -2_147_483_648;
export const INT4_MAX = 2_147_483_647;
/** bigint columns are read as JS numbers: the exact range of both. */
export const INT8_MIN = Number.MIN_SAFE_INTEGER;
export const INT8_MAX = Number.MAX_SAFE_INTEGER;
/** The largest finite float4. */
export const FLOAT4_MAX = 3.4028234663852886e38;

/** An integer an int4 column holds. */
export const int4 = () => z.number().int().min(INT4_MIN).max(INT4_MAX);
/** An integer a bigint column holds and JavaScript reads exactly. */
export const int8 = () => z.number().int().min(INT8_MIN).max(INT8_MAX);

/** A number a real (float4) column holds: finite once rounded to float4, and not a non-zero value that underflows to 0. */
export function isFloat4(value: number): boolean {
  const rounded = Math.fround(value);
  return Number.isFinite(rounded) && (rounded !== 0 || value === 0);
}
export const float4 = () =>
  z.number().refine(isFloat4, `expected a number a float4 holds (|x| ≤ ${FLOAT4_MAX}, not underflowing to 0)`);

/** A calendar date YYYY-MM-DD, years 0001–9999 (Postgres has no year 0; four digits keep it ISO). */
export const calendarDate = () =>
  z
    .string()
    .date()
    .refine((v) => !v.startsWith('0000'), 'expected a date from 0001-01-01 to 9999-12-31');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

/** Latest and earliest instants a cursor may carry (Postgres timestamptz holds more; JS Date less). */
const TIMESTAMP_MIN_MS = Date.UTC(1, 0, 1);
const TIMESTAMP_MAX_MS = Date.UTC(9999, 11, 31);
export function isTimestampInRange(date: Date): boolean {
  const ms = date.getTime();
  return Number.isFinite(ms) && ms >= TIMESTAMP_MIN_MS && ms <= TIMESTAMP_MAX_MS;
}

/**
 * The first place in `value` holding U+0000 (in a string or an object key), as a field path
 * `prefix.a.3.b`, or null. Iterative, and bounded by the body's size and depth limits.
 */
export function findNul(value: unknown, prefix: string): string | null {
  const stack: Array<[unknown, string]> = [[value, prefix]];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return path;
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], `${path}.${i}`]);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (key.includes('\u0000')) return `${path}.${key.replaceAll('\u0000', '\\u0000')}`;
        stack.push([child, `${path}.${key}`]);
      }
    }
  }
  return null;
}

/** An ISO date-time with offset, within years 0001–9999 (timestamptz columns). */
export const timestamp = () =>
  z
    .string()
    .datetime({ offset: true })
    .refine((v) => isTimestampInRange(new Date(v)), 'expected a date-time from year 0001 to 9999');
