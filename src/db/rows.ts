/**
 * Row types from the Drizzle schema, for the store's raw SQL: one source for a table's row shape
 * instead of a hand-written interface beside each query.
 */
import type { Table } from 'drizzle-orm';

/**
 * A property name in the schema's spelling (camelCase) in SQL's (snake_case): `tagsJson` ->
 * `tags_json`. Drizzle's column types do not keep the column's name as a literal, so the key is
 * converted instead; test/db/rows.test.ts checks that every column of the tables used this way is
 * named by this rule.
 */
export type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

/**
 * A row of `T` as raw SQL (`query()`) returns it: keyed by column name, each value typed as
 * Drizzle's select type of that column. True for the column kinds raw SQL and Drizzle agree on:
 * text, integers, bigint in mode 'number' (int8 is parsed once, db/client.ts), boolean, jsonb. Not
 * for timestamps (Drizzle maps them to Date; raw SQL gives text) nor bigint in mode 'bigint' (read
 * as `::text` in SQL): leave those out and type them at the query.
 */
export type SqlRow<T extends Table> = {
  [K in keyof T['$inferSelect'] & string as SnakeCase<K>]: T['$inferSelect'][K];
};
