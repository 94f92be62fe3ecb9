/**
 * The `nostr-cache` command as users get it: `npx nostr-cache --help` in a checkout after
 * `npm install` (no build: bin/nostr-cache.js runs the TypeScript through tsx), and the packed
 * package installed elsewhere (`npm pack`, whose prepack builds dist/, unpacked as `npm install`
 * lays it out). No registry is contacted: dependencies come from this checkout's node_modules.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'nc-bin-'));
// npm's own variables from the `npm test` that runs this (npm_config_local_prefix points at this
// checkout) would make npx resolve from here rather than from the copy under test.
const npmEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_'))),
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

/** A checkout without dist/: the tracked files the package needs, node_modules linked. */
function checkoutCopy(dir: string): void {
  for (const entry of ['bin', 'src', 'migrations', 'relays', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'docs']) {
    cpSync(join(root, entry), join(dir, entry), { recursive: true, filter: (path) => !/[/\\]native[/\\]build([/\\]|$)/.test(path) });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the nostr-cache command', () => {
  it('npx nostr-cache --help works in a checkout after npm install, without a build', async () => {
    const dir = join(scratch, 'checkout');
    checkoutCopy(dir);
    const { stdout } = await run('npx', ['--offline', 'nostr-cache', '--help'], { cwd: dir, env: npmEnv, timeout: 120_000 }).catch((e: { stderr?: string; message: string }) => { throw new Error(`${e.message}\n${e.stderr}`); });
    expect(stdout).toContain('Usage: nostr-cache <command>');
    expect(stdout).toMatch(/^\s+import\s+import events/m);
    const sub = await run('npx', ['--offline', 'nostr-cache', 'stats', 'rebuild', '--help'], { cwd: dir, env: npmEnv, timeout: 120_000 });
    expect(sub.stdout).toContain('Usage: nostr-cache stats rebuild');
  }, 240_000);

  it('the packed package (built dist/) runs nostr-cache --help once installed into another directory', async () => {
    const pkg = join(scratch, 'pack');
    checkoutCopy(pkg);
    await run('npm', ['pack', '--pack-destination', scratch], { cwd: pkg, env: npmEnv, timeout: 300_000 });
    const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    // What `npm install <tarball>` lays out, without the registry: the package unpacked under
    // node_modules, its dependencies beside it (this checkout's), and the .bin link npm makes.
    const modules = join(scratch, 'app', 'node_modules');
    const installed = join(modules, 'nostr-cache');
    mkdirSync(installed, { recursive: true });
    await run('tar', ['xzf', join(scratch, tarball!), '-C', installed, '--strip-components=1']);
    expect(readdirSync(installed)).toEqual(expect.arrayContaining(['bin', 'dist', 'migrations', 'relays', 'package.json']));
    expect(readdirSync(installed)).not.toContain('test');
    symlinkSync(join(root, 'node_modules'), join(installed, 'node_modules'), 'dir');
    mkdirSync(join(modules, '.bin'));
    symlinkSync('../nostr-cache/bin/nostr-cache.js', join(modules, '.bin', 'nostr-cache'));
    const { stdout } = await run(join(modules, '.bin', 'nostr-cache'), ['--help'], { cwd: join(scratch, 'app'), env: npmEnv, timeout: 60_000 });
    expect(stdout).toContain('Usage: nostr-cache <command>');
  }, 600_000);
});
