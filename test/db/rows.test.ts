/**
 * db/rows.ts types raw SQL rows by converting the schema's property names to snake_case (Drizzle's
 * column types do not keep names as literals). That holds only while every column of the tables
 * typed this way is named by the same rule: checked here against the schema at run time.
 */
import { getTableColumns, getTableName, is, Table } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as nostr from '../../src/db/schema/nostr.js';
import { coverageRanges, coverageWanted } from '../../src/db/schema/ingest.js';

const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const tables = [...Object.values(nostr), coverageRanges, coverageWanted].filter((t) => is(t, Table)) as Table[];

describe('schema column names', () => {
  it('covers the Nostr tables', () => {
    expect(tables.map(getTableName)).toEqual(expect.arrayContaining(['nostr_events', 'nostr_profiles', 'zaps', 'event_stats', 'communities', 'tombstones']));
  });

  it.each(tables.map((t) => [getTableName(t), t] as const))('%s: every column is its property name in snake_case', (_name, table) => {
    const columns = Object.entries(getTableColumns(table));
    expect(columns.length).toBeGreaterThan(0);
    for (const [key, column] of columns) expect(column.name).toBe(snakeCase(key));
  });

  it('the rule itself: camelCase to snake_case', () => {
    expect(['eventId', 'tagsJson', 'dTag', 'isAi', 'zapMsat', 'pubkey'].map(snakeCase)).toEqual(['event_id', 'tags_json', 'd_tag', 'is_ai', 'zap_msat', 'pubkey']);
  });
});
