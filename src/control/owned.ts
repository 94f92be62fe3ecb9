/**
 * The CRUD every owned resource shares (projects, threads, issues, knowledge, numbers): list, read,
 * update and delete filtered by the caller's reach, so a row outside it is "not found" whatever the
 * reason. Creation differs per table and lives in each table's module.
 */
import { and, eq, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/client.js';
import { notFound } from './errors.js';
import { keysetOrderBy, keysetWhere, pageSize, toPage, type KeysetOrder, type Page, type PageRequest } from './pagination.js';
import { inReach, type Caller } from './scope.js';
import { definedOnly } from './users.js';

type OwnedTable = PgTable & { id: PgColumn; userId: PgColumn; organizationId: PgColumn };

export interface OwnedStore<Row> {
  list(db: Queryable, caller: Caller, request: PageRequest, filters?: Array<SQL | undefined>): Promise<Page<Row>>;
  get(db: Queryable, caller: Caller, id: string): Promise<Row>;
  /** Updates what the patch names (and updated_at when the table has it). */
  update(db: Queryable, caller: Caller, id: string, patch: Record<string, unknown>): Promise<Row>;
  remove(db: Queryable, caller: Caller, id: string): Promise<void>;
}

export function ownedStore<T extends OwnedTable>(
  table: T,
  what: string,
  order: Omit<KeysetOrder, 'id'> & { cursorKey: (row: T['$inferSelect']) => Array<string | number> },
): OwnedStore<T['$inferSelect']> {
  type Row = T['$inferSelect'];
  const keyset: KeysetOrder = { ...order, id: table.id };
  const hasUpdatedAt = 'updatedAt' in table;
  // drizzle's builders are generic over the concrete table; this module is generic over any owned
  // table, so it talks to them through a loosened handle.
  const loose = (db: Queryable) => db as unknown as LooseDb;
  return {
    async list(db, caller, request, filters = []) {
      const limit = pageSize(request);
      const rows = (await loose(db)
        .select()
        .from(table)
        .where(and(inReach(table, caller), keysetWhere(keyset, request.cursor), ...filters))
        .orderBy(...keysetOrderBy(keyset))
        .limit(limit + 1)) as Row[];
      return toPage(rows, limit, order.cursorKey);
    },
    async get(db, caller, id) {
      const rows = (await loose(db).select().from(table).where(and(eq(table.id, id), inReach(table, caller)))) as Row[];
      if (!rows[0]) throw notFound(what);
      return rows[0];
    },
    async update(db, caller, id, patch) {
      const values = { ...definedOnly(patch), ...(hasUpdatedAt ? { updatedAt: new Date() } : {}) };
      if (Object.keys(values).length === 0) return this.get(db, caller, id);
      const rows = (await loose(db)
        .update(table)
        .set(values)
        .where(and(eq(table.id, id), inReach(table, caller)))
        .returning()) as Row[];
      if (!rows[0]) throw notFound(what);
      return rows[0];
    },
    async remove(db, caller, id) {
      const rows = (await loose(db)
        .delete(table)
        .where(and(eq(table.id, id), inReach(table, caller)))
        .returning({ id: table.id })) as unknown[];
      if (!rows[0]) throw notFound(what);
    },
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type LooseDb = {
  select(): any;
  update(table: PgTable): any;
  delete(table: PgTable): any;
};
