/**
 * A prebuilt, empty PGlite data directory shipped with the code, unpacked to create a new data
 * directory instead of running PGlite's initdb. PGlite's initdb runs a second WebAssembly Postgres
 * plus the initdb module in memory and peaks at ~700-870 MB RSS for an empty cluster
 * (bench/RESULTS.md, "Maintenance"); unpacking this archive costs a few tens of MB for a moment.
 *
 * The archive is named after the PGlite version that made it: a cluster only opens with the
 * Postgres build that created it, so another version finds no template and falls back to initdb
 * (`npx tsx src/db/pglite-template.ts` writes a new one; test/db/pglite-template.test.ts fails
 * until it exists).
 *
 * Format: brotli of [u32 manifest length][manifest JSON][file bytes in manifest order], where the
 * manifest lists every directory and file with its mode (empty directories matter to Postgres).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

interface Entry {
  path: string;
  mode: number;
  /** Absent for a directory. */
  size?: number;
}

/** The installed PGlite's version (its package.json; the package does not export that file). */
export function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
  }
  throw new Error('cannot find the version of @electric-sql/pglite');
}

/** Where the template for `version` lives: next to this module, or (built) in the package's src/. */
export function templatePath(version = pgliteVersion()): string {
  const name = `pgdata-${version}.bin.br`;
  const here = fileURLToPath(new URL('./pglite-template/', import.meta.url));
  const fromDist = fileURLToPath(new URL('../../../src/db/pglite-template/', import.meta.url));
  return [here, fromDist].map((dir) => join(dir, name)).find((file) => existsSync(file)) ?? join(here, name);
}

/** Packs directory `root` (all of it, recursively) into one compressed archive. */
export function packDirectory(root: string): Buffer {
  const entries: Entry[] = [];
  const chunks: Buffer[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const stat = statSync(full);
      const path = relative(root, full).split(sep).join('/');
      if (stat.isDirectory()) {
        entries.push({ path, mode: stat.mode & 0o777 });
        walk(full);
      } else if (stat.isFile()) {
        const data = readFileSync(full);
        entries.push({ path, mode: stat.mode & 0o777, size: data.length });
        chunks.push(data);
      }
    }
  };
  walk(root);
  const manifest = Buffer.from(JSON.stringify(entries));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(manifest.length);
  const raw = Buffer.concat([length, manifest, ...chunks]);
  return brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
}

/**
 * Unpacks an archive of packDirectory into `target`, which must not exist or be empty. Written
 * into a sibling directory first and renamed at the end, so a crash never leaves a half-made
 * cluster where the next start would take it for a whole one.
 */
export function unpackDirectory(archive: Buffer, target: string): void {
  const raw = brotliDecompressSync(archive);
  const manifestLength = raw.readUInt32BE(0);
  const entries = JSON.parse(raw.subarray(4, 4 + manifestLength).toString('utf8')) as Entry[];
  const staging = `${target}.unpacking`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  let offset = 4 + manifestLength;
  for (const entry of entries) {
    if (entry.path.split('/').includes('..')) throw new Error(`archive entry outside the target: ${entry.path}`);
    const full = join(staging, ...entry.path.split('/'));
    if (entry.size === undefined) {
      mkdirSync(full, { recursive: true, mode: entry.mode });
      continue;
    }
    if (offset + entry.size > raw.length) throw new Error(`archive truncated at ${entry.path}`);
    writeFileSync(full, raw.subarray(offset, offset + entry.size), { mode: entry.mode });
    chmodSync(full, entry.mode);
    offset += entry.size;
  }
  if (existsSync(target)) rmSync(target, { recursive: true }); // empty: initFromTemplate checked
  renameSync(staging, target);
}

/**
 * Creates data directory `dataDir` from the shipped template. False, doing nothing, when there is
 * no template for this PGlite or `dataDir` holds something already (left to initdb, as before).
 */
export function initFromTemplate(dataDir: string): boolean {
  const file = templatePath();
  if (!existsSync(file) || (existsSync(dataDir) && readdirSync(dataDir).length > 0)) return false;
  unpackDirectory(readFileSync(file), dataDir);
  return true;
}

/** `npx tsx src/db/pglite-template.ts`: runs PGlite's initdb once and writes the template for this version. */
async function writeTemplate(): Promise<void> {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { PGlite } = await import('@electric-sql/pglite');
  const scratch = mkdtempSync(join(tmpdir(), 'pglite-template-'));
  try {
    const dataDir = join(scratch, 'pgdata');
    const client = await PGlite.create({ dataDir });
    await client.close();
    const file = templatePath();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, packDirectory(dataDir));
    process.stdout.write(`${file}: ${statSync(file).size} bytes\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await writeTemplate();
