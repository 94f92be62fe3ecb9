/**
 * The pages people open, in headless Chromium (Debian's /usr/bin/chromium driven by puppeteer-core)
 * against a real `nostr-cache start` process: its ingest follows a real relay on 127.0.0.1 and a
 * relay address where nothing listens. Asserts on the rendered page: the status page at / (relays
 * with state, failures and backoff, scopes, the rate chart, database health, refreshing by itself)
 * and /docs (every operation of /openapi.json rendered). Any request to a host other than
 * 127.0.0.1 fails the test: both pages must work offline. The daemon's log must warn about the
 * dead relay.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/daemon-process.js';
import { note } from '../helpers/ingest.js';
import { startTestRelay, type TestRelay } from '../helpers/relay.js';

const root = resolve(import.meta.dirname, '../..');
/** The page's `document` (these callbacks run in Chromium; the project compiles without DOM types). */
declare const document: { getElementById(id: string): { textContent: string | null } | null; querySelectorAll(selector: string): { length: number } };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let relay: TestRelay;
let daemon: ChildProcess;
let stderr = '';
let base = '';
let deadRelay = '';
let browser: Browser;
const outside: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'nc-browser-'));

async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function openPage(path: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const host = new URL(request.url()).hostname;
    if (request.url().startsWith('data:') || host === '127.0.0.1') return void request.continue();
    outside.push(request.url());
    void request.abort();
  });
  await page.goto(`${base}${path}`, { waitUntil: 'load' });
  return page;
}

beforeAll(async () => {
  relay = await startTestRelay();
  const now = Math.floor(Date.now() / 1000);
  await relay.publish(Array.from({ length: 12 }, (_, i) => note(i, now - 600 + i)));
  deadRelay = `ws://127.0.0.1:${await freePort()}`;
  const relaysFile = join(scratch, 'relays.json');
  writeFileSync(
    relaysFile,
    JSON.stringify({ primaries: [relay.url, deadRelay], fallbacks: [], scopes: { 'web-comments': { description: 'web comments', filter: { kinds: [1111], '#K': ['web'] } } } }),
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  daemon = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), NOSTR_CACHE_DATA_DIR: join(scratch, 'data'), RELAYS_FILE: relaysFile, LOG_LEVEL: 'info', LOG_FORMAT: 'json', DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  daemon.stderr!.on('data', (d: Buffer) => (stderr += d));
  await until(async () => {
    const r = await fetch(`${base}/health/ingest`).catch(() => null);
    const report = r?.ok ? ((await r.json()) as { outcomes?: { accepted: number } }) : null;
    return (report?.outcomes?.accepted ?? 0) >= 12;
  }, 'the daemon stored the relay events');
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: join(scratch, 'chromium'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon.once('close', r));
    daemon.kill('SIGTERM');
    await exited;
  }
  await relay?.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 60_000);

describe('in Chromium', () => {
  it('GET / renders the status page: relays, scopes, rate chart, database, backfill; it refreshes by itself', async () => {
    const page = await openPage('/');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
    const rows = await page.$$eval('#relays tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const live = rows.find((r) => r[0] === relay.url);
    const dead = rows.find((r) => r[0] === deadRelay);
    expect(live?.[1]).toBe('connected');
    expect(live?.[2]).toMatch(/ago$/); // last event
    expect(dead?.[1]).toMatch(/^(backoff|connecting|open_circuit)$/);
    expect(Number(dead?.[3])).toBeGreaterThanOrEqual(1); // failures
    expect(dead?.[5]).toMatch(/ECONNREFUSED|connect/i); // last error

    const scopes = await page.$$eval('#scopes tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(scopes.map((s) => s[0])).toEqual(['web-comments']);
    expect(scopes[0]?.[1]).toMatch(/UTC$/); // covered until
    expect(scopes[0]?.[4]).toContain(relay.url);

    expect(await page.$eval('#rate svg', (svg) => svg.getAttribute('aria-label'))).toMatch(/events stored per second/);
    const database = await page.$eval('#database', (dl) => dl.textContent ?? '');
    expect(database).toContain('healthy');
    expect(database).toContain('pglite');
    expect(await page.$eval('#backfill tbody', (b) => b.textContent)).toBe('none');

    // Refreshes by itself: the "updated" stamp changes without any action.
    const first = await page.$eval('#updated', (e) => e.textContent);
    await page.waitForFunction((before) => document.getElementById('updated')?.textContent !== before, { timeout: 30_000 }, first);
    await page.close();
    expect(outside).toEqual([]);
  }, 120_000);

  it('/docs renders every operation of /openapi.json from assets served by the process', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const page = await openPage('/docs');
    await page.waitForSelector('.opblock', { timeout: 60_000 });
    // An operation with two tags is shown under each: compare the set of (method, path) shown.
    const shown = async () =>
      [...new Set(await page.$$eval('.opblock-summary', (els) => els.map((e) => `${e.querySelector('.opblock-summary-method')?.textContent} ${e.querySelector('.opblock-summary-path')?.textContent?.replace(/\u200b/g, '')}`)))].sort();
    await until(async () => (await shown()).length >= documented.length, 'every operation is rendered', 60_000);
    expect(await shown()).toEqual(documented);
    await page.close();
    expect(outside).toEqual([]);
  }, 120_000);

  it('the daemon logged the dead relay once as a warning (JSON, not a terminal)', () => {
    const lines = stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; relay?: string });
    const warnings = lines.filter((l) => l.msg === 'relay failed to connect');
    expect(warnings.map((w) => [w.level, w.relay])).toEqual([[40, deadRelay]]);
  });
});

describe('GET / for anything but a browser', () => {
  it('answers a short JSON pointer, and the status data as JSON', async () => {
    const r = await fetch(`${base}/`, { headers: { Accept: 'application/json' } });
    expect(r.headers.get('vary')).toBe('Accept');
    expect(await r.json()).toMatchObject({ name: 'nostr-cache', docs: '/docs', status: '/status.json' });
    const status = (await (await fetch(`${base}/status.json`)).json()) as { relays: Array<{ url: string; state: string; backoffSeconds: number | null }> };
    expect(status.relays.find((x) => x.url === deadRelay)?.state).not.toBe('connected');
  });
});
