import { describe, expect, it } from 'vitest';
import { RepairQueue, type Hole } from '../../../src/ingest/coverage/repair-queue.js';

/** A repair that finishes when the test says so. */
function controlled() {
  const started: Array<{ key: string; hole: Hole; finish: (error?: Error) => void }> = [];
  const repair = (key: string, hole: Hole) =>
    new Promise<void>((resolve, reject) => started.push({ key, hole, finish: (error) => (error ? reject(error) : resolve()) }));
  return { started, repair };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RepairQueue', () => {
  it('starts a hole at once, one per key, up to the concurrency across keys', async () => {
    const { started, repair } = controlled();
    const queue = new RepairQueue({ concurrency: 2, repair });
    queue.offer('r1 a', { since: 0, until: 10 });
    queue.offer('r1 a', { since: 20, until: 30 });
    queue.offer('r1 b', { since: 0, until: 10 });
    queue.offer('r2 a', { since: 0, until: 10 });
    expect(started.map((s) => s.key)).toEqual(['r1 a', 'r1 b']);
    expect(queue.pending).toBe(4);
    started[1]!.finish();
    await tick();
    // The freed slot goes to the next key waiting, not to r1 a's second hole (r1 a is busy).
    expect(started.map((s) => s.key)).toEqual(['r1 a', 'r1 b', 'r2 a']);
    started[0]!.finish();
    await tick();
    expect(started[3]).toMatchObject({ key: 'r1 a', hole: { since: 20, until: 30 } });
  });

  it("takes a key's newest hole first and keeps a hole offered twice once", async () => {
    const { started, repair } = controlled();
    const queue = new RepairQueue({ concurrency: 1, repair });
    queue.offer('k', { since: 100, until: 200 });
    queue.offer('k', { since: 0, until: 10 });
    queue.offer('k', { since: 500, until: 600 });
    queue.offer('k', { since: 500, until: 600 });
    expect(queue.pending).toBe(3);
    started[0]!.finish();
    await tick();
    expect(started[1]!.hole).toEqual({ since: 500, until: 600 });
    started[1]!.finish();
    await tick();
    expect(started[2]!.hole).toEqual({ since: 0, until: 10 });
  });

  it('reports a failure, goes on with the rest, and is idle when all are done', async () => {
    const { started, repair } = controlled();
    const errors: string[] = [];
    const queue = new RepairQueue({ concurrency: 1, repair, onError: (key, _hole, error) => errors.push(`${key}: ${(error as Error).message}`) });
    queue.offer('a', { since: 0, until: 1 });
    queue.offer('b', { since: 0, until: 1 });
    const idle = queue.idle();
    started[0]!.finish(new Error('relay gone'));
    await tick();
    expect(errors).toEqual(['a: relay gone']);
    started[1]!.finish();
    await idle;
    expect(queue.pending).toBe(0);
  });

  it('after close, takes nothing more', () => {
    const { started, repair } = controlled();
    const queue = new RepairQueue({ concurrency: 1, repair });
    queue.close();
    queue.offer('a', { since: 0, until: 1 });
    expect(started).toHaveLength(0);
    expect(() => new RepairQueue({ concurrency: 0, repair })).toThrow(/at least 1/);
  });
});
