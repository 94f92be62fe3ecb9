/**
 * Baseline of the ingest benchmark (bench/ingest.ts): what a plain nostr-tools client does without
 * the daemon. A SimplePool (over `ws`) subscribes to the relays of a relay-set file with every
 * scope's filter in one REQ; the pool checks each event with nostr-tools' pure-JS `verifyEvent`
 * (SimplePool's default), and each verified event gets ONE `INSERT … ON CONFLICT DO NOTHING`
 * through postgres.js (bench/baseline-import.ts's table), in arrival order.
 *
 *   RELAYS_FILE=… DATABASE_URL=postgres://… npx tsx bench/baseline-subscribe.ts
 *
 * (the same variables as the daemon, so bench/ingest.ts starts both alike; the table is created
 * in DATABASE_URL's database).
 *
 * When every relay has sent EOSE and every insert has finished it prints one JSON line
 * ({ events, invalid, rows }) and exits; CPU and memory are measured from outside by the parent.
 */
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool';
import WebSocket from 'ws';
import { loadRelaySet } from '../src/ingest/fleet/relay-set.js';
import { postgresSink } from './baseline-import.js';

/** A backlog takes far longer than SimplePool's default EOSE wait (4.4 s): wait for the real EOSE. */
const EOSE_WAIT_MS = 24 * 3600 * 1000;

async function main(): Promise<void> {
  const { RELAYS_FILE: relaysFile, DATABASE_URL: databaseUrl } = process.env;
  if (!relaysFile || !databaseUrl) throw new Error('RELAYS_FILE and DATABASE_URL are required');
  const relaySet = loadRelaySet(relaysFile);
  const sink = await postgresSink(databaseUrl, true);
  useWebSocketImplementation(WebSocket);
  const pool = new SimplePool();
  let events = 0;
  let invalid = 0;
  let insertError: unknown = null;
  let inserts: Promise<void> = Promise.resolve();
  const requests = relaySet.primaries.flatMap((url) => Object.values(relaySet.scopes).map((s) => ({ url, filter: s.filter })));
  await new Promise<void>((resolve, reject) => {
    let eose = false;
    pool.subscribeMap(requests, {
      maxWait: EOSE_WAIT_MS,
      onevent(event) {
        events++;
        inserts = inserts.then(() => sink.insert(event)).catch((error: unknown) => void (insertError ??= error));
      },
      oninvalidevent() {
        invalid++;
      },
      oneose() {
        eose = true;
        resolve();
      },
      onclose(reasons) {
        if (!eose) reject(new Error(`subscription closed before EOSE: ${JSON.stringify(reasons)}`));
      },
    });
  });
  await inserts;
  if (insertError) throw insertError;
  const rows = await sink.count();
  process.stdout.write(`${JSON.stringify({ events, invalid, rows })}\n`);
  pool.destroy();
  await sink.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
