/** Named counters (owned rows), with an atomic increment: one UPDATE ... RETURNING, no read-modify-write. */
import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { numbers } from '../db/schema/index.js';
import { conflict, invalid, notFound } from './errors.js';
import { ownedStore } from './owned.js';
import { inReach, ownerFor, type Caller } from './scope.js';

export type NumberRow = typeof numbers.$inferSelect;

export const numberStore = ownedStore(numbers, 'number', { direction: 'desc', cursorKey: (r) => [r.id] });

export async function createNumber(
  db: Queryable,
  caller: Caller,
  input: { name: string; value?: number | undefined; organizationId?: string | null | undefined },
): Promise<NumberRow> {
  const owner = await ownerFor(db, caller, input.organizationId);
  const rows = await db
    .insert(numbers)
    .values({ name: input.name, value: input.value ?? 0, ...owner })
    .onConflictDoNothing()
    .returning();
  if (!rows[0]) throw conflict(`a number named ${input.name} exists for this owner`);
  return rows[0];
}

/** Counters stay within what JavaScript reads exactly (a bigint column holds more). */
const VALUE_MIN = Number.MIN_SAFE_INTEGER;
const VALUE_MAX = Number.MAX_SAFE_INTEGER;

export async function incrementNumber(db: Queryable, caller: Caller, id: string, by: number): Promise<NumberRow> {
  // The sum is computed as numeric so an overflowing one is refused by the WHERE, not by bigint.
  const next = sql`${numbers.value}::numeric + ${String(by)}::numeric`;
  const rows = await db
    .update(numbers)
    .set({ value: sql`${numbers.value} + ${by}`, updatedAt: new Date() })
    .where(and(eq(numbers.id, id), inReach(numbers, caller), sql`${next} between ${String(VALUE_MIN)}::numeric and ${String(VALUE_MAX)}::numeric`))
    .returning();
  if (rows[0]) return rows[0];
  const exists = await db.select({ id: numbers.id }).from(numbers).where(and(eq(numbers.id, id), inReach(numbers, caller)));
  if (exists.length === 0) throw notFound('number');
  throw invalid('json.by', `invalid json.by: the counter would leave ${VALUE_MIN}…${VALUE_MAX}`);
}
