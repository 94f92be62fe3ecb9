/**
 * The benchmark's baseline relay in a process of its own: @nostr-relay/core over the SQLite file in
 * the given folder (test/helpers/relay.ts, as the tests run it), REQ limit ceiling 500. Prints
 * `PORT <n>` on stdout once listening; stops on SIGTERM.
 * Usage: npx tsx bench/relay-baseline-server.ts <storageDir>
 */
import { startTestRelay } from '../test/helpers/relay.js';

const storageDir = process.argv[2];
if (!storageDir) throw new Error('usage: relay-baseline-server.ts <storageDir>');
const relay = await startTestRelay({ storageDir, maxLimit: 500, maxSubscriptions: 5_000, maxMessageLength: 1024 * 1024 });
process.stdout.write(`PORT ${relay.port}\n`);
process.once('SIGTERM', () => {
  void relay.stop().then(() => process.exit(0));
});
