#!/usr/bin/env node
/**
 * `npm install` hook: builds the optional native verifier (secp256k1_verify.c) with node-gyp when
 * the system has libsecp256k1 with its schnorrsig module (Debian: libsecp256k1-dev). Never fails
 * the install: without the library, or if the build fails, nostr-cache verifies with the WASM
 * build and says so at start. NOSTR_CACHE_NATIVE=0 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const say = (message) => console.log(`nostr-cache: ${message}`);

/** True when a C compiler finds secp256k1_schnorrsig.h and links -lsecp256k1. */
function libraryPresent() {
  const dir = mkdtempSync(join(tmpdir(), 'nostr-cache-secp-'));
  try {
    const source = join(dir, 'probe.c');
    writeFileSync(source, '#include <secp256k1_schnorrsig.h>\nint main(void) { return secp256k1_context_create(0) == 0; }\n');
    const cc = process.env.CC ?? 'cc';
    return spawnSync(cc, [source, '-o', join(dir, 'probe'), '-lsecp256k1'], { stdio: 'ignore' }).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** node-gyp as npm runs it (npm_config_node_gyp), else the copy bundled with npm. */
function nodeGypPath() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  try {
    const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'package.json');
    return createRequire(npmCli).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function main() {
  if (process.env.NOSTR_CACHE_NATIVE === '0') return say('native verifier skipped (NOSTR_CACHE_NATIVE=0)');
  if (!libraryPresent()) {
    return say('libsecp256k1 not found: signatures will be verified with the WASM build (install libsecp256k1-dev and re-run npm install for ~5x faster verification)');
  }
  const gyp = nodeGypPath();
  if (gyp === null) return say('node-gyp not found: signatures will be verified with the WASM build');
  const result = spawnSync(process.execPath, [gyp, 'rebuild', '--directory', here], { encoding: 'utf8' });
  if (result.status !== 0) {
    say('native verifier build failed; signatures will be verified with the WASM build. node-gyp said:');
    console.log((result.stderr || result.stdout || '').split('\n').slice(-15).join('\n'));
    return;
  }
  say('native libsecp256k1 verifier built');
}

main();
