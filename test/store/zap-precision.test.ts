/**
 * Millisat amounts are int8 values that can pass 2^53 (a receipt's amount is whatever its invoice
 * says): db/client.ts parses int8 as a JS number only where values are bounded, so these travel as
 * exact text. Checked end to end on both engines: receipt -> zaps -> event_stats -> served post and
 * zap list, and back down when a receipt is deleted.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPost, toZap } from '../../src/api/shape.js';
import { query } from '../../src/db/client.js';
import { eventById, zapsPage } from '../../src/store/queries/events.js';
import { T0, fakeInvoice, sign, world, zapReceipt, zapRequest } from '../fixtures/hand-built.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { storeEvents } from '../helpers/store.js';

const BIG = 2n ** 53n + 1n; // 9007199254740993 msat: Number() would give ...992
const NOW = T0 + 100_000;

describe.each(engines)('zap amounts beyond 2^53 on %s', (driver) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('stay exact from the receipts to the stats, the served post and the zap list, and when one is deleted', async () => {
    const post = world.posts.aiTopLevel;
    const requests = [1, 2].map((i) => zapRequest(T0 + 2000 + i, BIG.toString(), post, `big ${i}`));
    // p is a tenth of a msat: 90071992547409930p = 9007199254740993 msat, the request's amount.
    const receipts = requests.map((r, i) => zapReceipt(T0 + 2010 + i, fakeInvoice(`lnbc${BIG * 10n}p`, `big ${i}`), r, JSON.stringify(r)));
    await storeEvents(database.db, [post, ...receipts]);

    const stored = await query<{ amount_msat: string; validity: number }>(database.db, sql`SELECT amount_msat::text AS amount_msat, validity FROM zaps ORDER BY receipt_id`);
    expect(stored).toEqual([
      { amount_msat: '9007199254740993', validity: 3 },
      { amount_msat: '9007199254740993', validity: 3 },
    ]);
    const twice = (2n * BIG).toString();
    const served = toPost((await eventById(database.reads, post.id, NOW)).row!);
    expect(served.stats).toMatchObject({ zap_count: 2, zap_msat: twice, zap_sats: Number((2n * BIG) / 1000n) });
    const page = await zapsPage(database.reads, { id: post.id, now: NOW, limit: 10, minValidity: 0 });
    expect(page.totals).toEqual({ count: 2, msat: twice });
    expect(page.rows.map(toZap).map((z) => [z.amount_msat, z.amount_sats])).toEqual([
      ['9007199254740993', 9_007_199_254_740],
      ['9007199254740993', 9_007_199_254_740],
    ]);

    // The receipt's author deletes one: event_stats loses exactly its amount (DELETE ... RETURNING).
    await storeEvents(database.db, [sign('lnurl', { kind: 5, created_at: T0 + 3000, tags: [['e', receipts[0]!.id]] })]);
    const after = toPost((await eventById(database.reads, post.id, NOW)).row!);
    expect(after.stats).toMatchObject({ zap_count: 1, zap_msat: BIG.toString() });
  });
});
