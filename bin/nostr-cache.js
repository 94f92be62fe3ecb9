#!/usr/bin/env node
// The package's `nostr-cache` command. Runs the compiled CLI (dist/, made by `npm run build` and
// shipped in the packed package) when present; otherwise, in a checkout after `npm install`, the
// TypeScript source through tsx (a runtime dependency), so `npx nostr-cache` works without a build.
import { existsSync } from 'node:fs';

const built = new URL('../dist/src/cli.js', import.meta.url);
let cli;
if (existsSync(built)) {
  cli = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli.ts', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
