/** relays/default.json: a valid relay set, documented relay by relay, without relays that are gone. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRelaySet } from '../src/ingest/fleet/relay-set.js';

const root = resolve(import.meta.dirname, '..');
/** Shut down or unmaintained (docs/relays.md, "Removed"). */
const GONE = ['wss://relay.damus.io', 'wss://relay.nostr.band'];

describe('the default relay set', () => {
  const set = loadRelaySet(resolve(root, 'relays/default.json'));
  const relays = [...set.primaries, ...set.fallbacks];

  it('loads, has primaries and a fallback, and lists no relay that is gone', () => {
    expect(set.primaries.length).toBeGreaterThanOrEqual(2);
    expect(set.fallbacks.length).toBeGreaterThanOrEqual(1);
    for (const url of GONE) expect(relays).not.toContain(url);
  });

  it('docs/relays.md gives a reason for every relay in it', () => {
    const doc = readFileSync(resolve(root, 'docs/relays.md'), 'utf8');
    for (const url of relays) expect(doc, url).toMatch(new RegExp(`^\\| \`${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\` \\| (primary|fallback) \\| .{40,}`, 'm'));
  });
});
