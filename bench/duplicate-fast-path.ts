/**
 * The duplicate fast path's cost per frame: IngestPipeline.takeCopy on copies of events verified in
 * memory, as before issue 15's seen-on fix (baseline: the id peek only, what RelayConnection did
 * before offering the frame) and now (the id peek, then takeCopy, which also peeks the signature).
 * Same run, same frames; prints ns per frame and the ratio. No database is touched: every copy is
 * of an event already confirmed.
 *
 *   npx tsx bench/duplicate-fast-path.ts [frames per run=200000]
 */
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { peekEventFrame, peekEventSigAt } from '../src/nostr/relay-frames.js';
import { SeenIds } from '../src/ingest/pipeline/seen-ids.js';

const count = Number(process.argv[2] ?? 200_000);
const key = generateSecretKey();
const events = Array.from({ length: 2000 }, (_, i) =>
  finalizeEvent({ kind: 1, created_at: 1_700_000_000 + i, tags: [['t', 'bench']], content: 'x'.repeat(200 + (i % 800)) }, key),
);
const frames = events.map((e) => Buffer.from(JSON.stringify(['EVENT', 'sub', e])));
const seen = new SeenIds<never>(500_000);
for (const e of events) seen.confirm(e.id, e.sig);

function run(label: string, perFrame: (frame: Buffer) => boolean): number {
  let ok = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) if (perFrame(frames[i % frames.length]!)) ok++;
  const ns = Number(process.hrtime.bigint() - start) / count;
  if (ok !== count) throw new Error(`${label}: ${ok} of ${count} taken`);
  console.log(`${label}: ${ns.toFixed(0)} ns/frame`);
  return ns;
}

// Baseline: what the fast path did per frame before (peek the id, ask the seen set).
const before = () => run('before (id peek + seen set)', (f) => seen.isConfirmed(peekEventFrame(f)!.id));
// Now: also the signature peek and its comparison with the one that verified.
const after = () =>
  run('after  (id peek + seen set + sig peek and compare)', (f) => {
    const id = peekEventFrame(f)!.id;
    if (!seen.isConfirmed(id)) return false;
    const at = peekEventSigAt(f);
    return at >= 0 && seen.signedAsIn(id, f, at);
  });
before();
after(); // warm-up of both
// Alternating pairs; the median ratio (the machine is shared: single figures drift).
const ratios: number[] = [];
for (let pair = 0; pair < 7; pair++) ratios.push(after() / before());
ratios.sort((x, y) => x - y);
const mean = Math.round(frames.reduce((n, f) => n + f.length, 0) / frames.length);
console.log(`ratio after/before, 7 pairs: ${ratios.map((r) => r.toFixed(2)).join(' ')}; median ${ratios[3]!.toFixed(2)} (mean frame ${mean} bytes)`);
