/** Named counters (owned rows), with an atomic increment: one UPDATE ... RETURNING, no read-modify-write. */
import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { numbers } from '../db/schema/index.js';
import { conflict, notFound } from './errors.js';
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

export async function incrementNumber(db: Queryable, caller: Caller, id: string, by: number): Promise<NumberRow> {
  const rows = await db
    .update(numbers)
    .set({ value: sql`${numbers.value} + ${by}`, updatedAt: new Date() })
    .where(and(eq(numbers.id, id), inReach(numbers, caller)))
    .returning();
  if (!rows[0]) throw notFound('number');
  return rows[0];
}
