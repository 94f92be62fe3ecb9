import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase, query } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { initFromTemplate, packDirectory, pgliteVersion, templatePath, unpackDirectory } from '../../src/db/pglite-template.js';

const scratch = mkdtempSync(join(tmpdir(), 'nc-pglite-template-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('PGlite data-directory template', () => {
  it('ships a template for the installed PGlite (after an upgrade: npx tsx src/db/pglite-template.ts)', () => {
    expect(existsSync(templatePath()), templatePath()).toBe(true);
    expect(templatePath()).toContain(`pgdata-${pgliteVersion()}.`);
  });

  it('packs and unpacks a tree exactly: files, modes and empty directories', () => {
    const source = join(scratch, 'source');
    mkdirSync(join(source, 'a', 'empty'), { recursive: true });
    writeFileSync(join(source, 'a', 'one'), 'first');
    writeFileSync(join(source, 'two'), Buffer.from([0, 1, 2, 255]), { mode: 0o600 });
    writeFileSync(join(source, 'zero'), '');
    const target = join(scratch, 'target');
    unpackDirectory(packDirectory(source), target);
    expect(readdirSync(join(target, 'a', 'empty'))).toEqual([]);
    expect(readFileSync(join(target, 'a', 'one'), 'utf8')).toBe('first');
    expect([...readFileSync(join(target, 'two'))]).toEqual([0, 1, 2, 255]);
    expect(statSync(join(target, 'two')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(target, 'zero')).length).toBe(0);
    expect(existsSync(`${target}.unpacking`)).toBe(false);
  });

  it('refuses a truncated archive and leaves no target behind', () => {
    const source = join(scratch, 'big');
    mkdirSync(source);
    writeFileSync(join(source, 'f'), Buffer.alloc(1000, 7));
    const raw = brotliDecompressSync(packDirectory(source));
    const cut = brotliCompressSync(raw.subarray(0, raw.length - 10));
    const target = join(scratch, 'cut');
    expect(() => unpackDirectory(cut, target)).toThrow(/truncated/);
    expect(existsSync(target)).toBe(false);
  });

  it('does not touch a directory that already holds something', () => {
    const busy = join(scratch, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'x'), 'x');
    expect(initFromTemplate(busy)).toBe(false);
    expect(readdirSync(busy)).toEqual(['x']);
  });

  it('a new data directory is made from the template (same cluster identity), migrates and reopens', async () => {
    // initdb gives every cluster a new system identifier; copies of the template share one.
    const systemId = async (dataDir: string): Promise<string> => {
      const database = await openDatabase({ dataDir });
      try {
        return (await query<{ id: string }>(database.db, sql`SELECT system_identifier::text AS id FROM pg_control_system()`))[0]!.id;
      } finally {
        await database.close();
      }
    };
    const direct = join(scratch, 'direct');
    expect(initFromTemplate(join(direct, 'pglite'))).toBe(true);
    expect(existsSync(join(direct, 'pglite', 'PG_VERSION'))).toBe(true);

    const dataDir = join(scratch, 'data');
    const first = await openDatabase({ dataDir });
    try {
      await runMigrations(first);
      await first.db.execute(sql`CREATE TABLE kept (v text)`);
      await first.db.execute(sql`INSERT INTO kept VALUES ('kept')`);
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir });
    try {
      expect(await query<{ v: string }>(again.db, sql`SELECT v FROM kept`)).toEqual([{ v: 'kept' }]);
    } finally {
      await again.close();
    }
    expect(await systemId(dataDir)).toBe(await systemId(direct));
  }, 120_000);
});
