/**
 * Creates a new PGlite data directory, in a process of its own (see openPglite): PGlite runs
 * initdb as a second WebAssembly instance, and that instance's memory stays in the process after
 * it is done, about 590 MB of peak RSS on top of the database's own. Run as
 * `node pglite-init.js <dataDir>`; exits 0 once the directory is a closed, valid cluster.
 */
import { PGlite } from '@electric-sql/pglite';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: pglite-init <dataDir>\n');
  process.exit(2);
}
const client = await PGlite.create({ dataDir });
await client.close();
