/**
 * The failed-auth limiter keys on the client address as TRUST_PROXY says (a hop count: the N-th
 * X-Forwarded-For entry from the right), so a client cannot pick its own key by writing the header,
 * cannot lock out a victim's address, and a valid token is never refused with 429.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ApiApp } from '../../src/api/app.js';
import { controlRoutes } from '../../src/api/routes/control/index.js';
import { loadConfig } from '../../src/config.js';
import { engines } from '../helpers/engines.js';
import { createHarness, type Harness } from '../control/helpers.js';

const LIMIT = 5;

function appWith(h: Harness, trustProxy: string): ApiApp {
  const config = loadConfig({ AUTH_FAILURE_LIMIT: String(LIMIT), AUTH_FAILURE_WINDOW_SECONDS: '600', TRUST_PROXY: trustProxy });
  return createApp({ ...h.deps, config }, [controlRoutes]);
}

async function me(app: ApiApp, peer: string, forwardedFor: string | undefined, token: string): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  const r = await app.request('/v1/me', { headers }, { incoming: { socket: { remoteAddress: peer } } });
  return r.status;
}

const BAD = `nc_${'A'.repeat(43)}`;

describe('TRUST_PROXY parsing', () => {
  it('is a hop count; true is 1 and false is 0', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({}).trustProxy).toBe(0);
    expect(() => loadConfig({ TRUST_PROXY: 'yes' })).toThrow(/TRUST_PROXY/);
  });
});

describe.each(engines)('the failed-auth limiter on %s', (driver) => {
  let h: Harness;
  let good: string;
  beforeAll(async () => {
    h = await createHarness(driver);
    good = await h.mint('alice');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('behind one proxy, a client writing X-Forwarded-For cannot rotate its key', async () => {
    const app = appWith(h, '1');
    const statuses: number[] = [];
    // The proxy (10.0.0.1) appends the real client 203.0.113.9; the client wrote a new address each time.
    for (let i = 0; i < 50; i++) statuses.push(await me(app, '10.0.0.1', `198.51.100.${i}, 203.0.113.9`, BAD));
    expect(statuses.slice(0, LIMIT).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(LIMIT).every((s) => s === 429)).toBe(true);
    // Another client behind the same proxy is not affected.
    expect(await me(app, '10.0.0.1', '203.0.113.10', BAD)).toBe(401);
  });

  it('a client cannot lock out a victim by naming its address', async () => {
    const app = appWith(h, '1');
    for (let i = 0; i < 20; i++) await me(app, '10.0.0.1', `192.0.2.77, 203.0.113.50`, BAD);
    // The victim 192.0.2.77, through the proxy, still gets a plain 401 for a bad token.
    expect(await me(app, '10.0.0.1', '192.0.2.77', BAD)).toBe(401);
  });

  it('with two proxies the client is the second entry from the right', async () => {
    const app = appWith(h, '2');
    for (let i = 0; i < LIMIT; i++) await me(app, '10.0.0.2', `6.6.6.${i}, 203.0.113.60, 10.0.0.1`, BAD);
    expect(await me(app, '10.0.0.2', '7.7.7.7, 203.0.113.60, 10.0.0.1', BAD)).toBe(429);
    expect(await me(app, '10.0.0.2', '203.0.113.61, 10.0.0.1', BAD)).toBe(401);
  });

  it('a valid token is never refused, even from an address over the limit', async () => {
    const app = appWith(h, '0');
    for (let i = 0; i < 20; i++) await me(app, '10.0.0.1', undefined, BAD);
    expect(await me(app, '10.0.0.1', undefined, BAD)).toBe(429);
    expect(await me(app, '10.0.0.1', undefined, good)).toBe(200);
  });
});
