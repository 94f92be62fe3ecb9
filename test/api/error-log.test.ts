/**
 * A 500's log line carries the error code, the route and a bounded, redacted summary: never the
 * failed query's parameters (once a 1 MB value logged 3 MB, user content included).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteGroup } from '../../src/api/app.js';
import { redact, summarizeError } from '../../src/api/error-summary.js';
import { engines } from '../helpers/engines.js';
import { createHarness, type Harness } from '../control/helpers.js';

const SECRET = 'user-content-'.repeat(80_000);

/** A route that fails inside the database with a huge parameter. */
const failing: RouteGroup = (router, deps) => {
  router.get('/explode/:n', async (c) => {
    await deps.database.db.execute(sql`select ${SECRET}::int as n`);
    return c.json({});
  });
};

describe('error summaries', () => {
  it('keep the code and drop quoted values, data runs and later lines', () => {
    const inner = Object.assign(new Error(`invalid input syntax for type integer: "${SECRET}"`), { code: '22P02' });
    const outer = new Error(`Failed query: select $1::int\nparams: ${SECRET}`, { cause: inner });
    const summary = summarizeError(outer);
    expect(summary.code).toBe('22P02');
    expect(summary.message).toBe('invalid input syntax for type integer: "…"');
    expect(JSON.stringify(summary).length).toBeLessThan(400);
    expect(redact(`token nc_${'A'.repeat(43)} refused`)).toBe('token … refused');
  });
});

describe.each(engines)('unhandled errors on %s', (driver) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(driver, {}, [failing]);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('log a bounded line without the parameters', async () => {
    const before = h.logs.length;
    const r = await h.call('GET', '/v1/explode/1?secret=query-value');
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe('internal');
    const lines = h.logs.slice(before).filter((l) => l.includes('unhandled error'));
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.length).toBeLessThan(1000);
    expect(line).not.toContain('user-content');
    expect(line).not.toContain('query-value');
    const parsed = JSON.parse(line);
    expect(parsed.error.code).toBe('22P02');
    expect(parsed.route).toBe('/v1/explode/:n');
  });
});
