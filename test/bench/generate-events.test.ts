import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvent } from 'nostr-tools/pure';
import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NOW,
  generateDrafts,
  generateEvents,
  lnurlServerPubkeys,
  MAX_DEPTH,
  schnorrSign,
  signingKey,
} from '../../bench/generate-events.js';
import type { NostrEvent } from '../../src/nostr/types.js';

const SAMPLE = 2_000;

function take(count: number, seed: number, extra: { subclaws?: number; now?: number } = {}): NostrEvent[] {
  return [...generateEvents({ count, seed, ...extra })];
}

/** msat from a bolt11 human-readable part (lnbc + digits + multiplier), written here independently. */
function bolt11Msat(invoice: string): bigint | null {
  const m = /^ln(?:bcrt|bc|tbs|tb)(\d+)([munp]?)1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$/.exec(invoice);
  if (!m) return null;
  const n = BigInt(m[1] as string);
  switch (m[2]) {
    case 'm':
      return n * 100_000_000n;
    case 'u':
      return n * 100_000n;
    case 'n':
      return n * 100n;
    case 'p':
      return n % 10n === 0n ? n / 10n : null;
    default:
      return n * 100_000_000_000n;
  }
}

const tag = (ev: NostrEvent, name: string): string[][] => ev.tags.filter((t) => t[0] === name);
const first = (ev: NostrEvent, name: string): string | undefined => tag(ev, name)[0]?.[1];

const events = take(SAMPLE, 1);

describe('generateEvents', () => {
  it('yields exactly count events', () => {
    expect(events).toHaveLength(SAMPLE);
    expect(take(0, 1)).toHaveLength(0);
    expect(take(7, 1)).toHaveLength(7);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = take(SAMPLE, 1);
    expect(again.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(again.map((e) => e.sig)).toEqual(events.map((e) => e.sig));
    expect(again.map((e) => e.content)).toEqual(events.map((e) => e.content));
    const other = take(SAMPLE, 2);
    const ids = new Set(events.map((e) => e.id));
    expect(other.filter((e) => ids.has(e.id))).toHaveLength(0);
    // `now` shifts every timestamp, so ids change too.
    expect(take(100, 1, { now: DEFAULT_NOW + 1000 })[0]?.id).not.toBe(events[0]?.id);
  });

  it('signs every event validly (checked with nostr-tools)', () => {
    for (const ev of events) {
      expect(verifyEvent({ ...ev, tags: ev.tags.map((t) => [...t]) })).toBe(true);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(SAMPLE);
  }, 180_000);

  it('produces the same signatures as tiny-secp256k1 signSchnorr with zero aux', () => {
    for (let i = 0; i < 50; i++) {
      const secret = new Uint8Array(createHash('sha256').update(`key ${i}`).digest());
      const msg = createHash('sha256').update(`msg ${i}`).digest();
      const expected = Buffer.from(ecc.signSchnorr(msg, secret, new Uint8Array(32))).toString('hex');
      expect(schnorrSign(msg, signingKey(secret))).toBe(expected);
    }
  });

  it('CLI with signing workers writes exactly the events of the sync generator', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gen-events-'));
    try {
      const out = join(dir, 'events.jsonl');
      const tsxCli = join(createRequire(import.meta.url).resolve('tsx/package.json'), '..', 'dist', 'cli.mjs');
      execFileSync(process.execPath, [tsxCli, 'bench/generate-events.ts', '--count', '2500', '--seed', '5', '--workers', '2', '--out', out], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
      expect(lines).toEqual(take(2500, 5).map((e) => JSON.stringify(e)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('never emits two events with the same id', () => {
    const ids = new Set<string>();
    let n = 0;
    // Ids are final before signing, so the unsigned drafts are enough (and much faster).
    for (const d of generateDrafts({ count: 30_000, seed: 1 })) {
      ids.add(d.event.id);
      n++;
    }
    expect(ids.size).toBe(n);
  });

  it('only references events generated earlier, never later in time', () => {
    const seen = new Map<string, NostrEvent>();
    const profiled = new Set<string>();
    for (const ev of events) {
      for (const t of ev.tags) {
        if (t[0] === 'e' || t[0] === 'E') {
          const target = seen.get(t[1] as string);
          expect(target, `${ev.kind} references unknown ${t[1]}`).toBeDefined();
          expect((target as NostrEvent).created_at).toBeLessThanOrEqual(ev.created_at);
        }
      }
      if (ev.kind === 0) profiled.add(ev.pubkey);
      else if (ev.kind !== 9735) expect(profiled.has(ev.pubkey), 'profile precedes activity').toBe(true);
      seen.set(ev.id, ev);
    }
  });

  it('keeps created_at in the past, roughly increasing, with some equal timestamps', () => {
    let equal = 0;
    let maxBack = 0;
    for (let i = 1; i < events.length; i++) {
      const prev = (events[i - 1] as NostrEvent).created_at;
      const cur = (events[i] as NostrEvent).created_at;
      if (cur === prev) equal++;
      maxBack = Math.max(maxBack, prev - cur);
    }
    for (const ev of events) expect(ev.created_at).toBeLessThan(DEFAULT_NOW);
    expect(equal).toBeGreaterThan(10);
    const span = (events.at(-1) as NostrEvent).created_at - (events[0] as NostrEvent).created_at;
    expect(maxBack).toBeLessThan(span / 50);
    expect([...take(50, 1, { now: 1_600_000_000 })].every((e) => e.created_at < 1_600_000_000)).toBe(true);
  });

  it('mixes the expected kinds in plausible shares', () => {
    const byKind = new Map<number, number>();
    for (const ev of events) byKind.set(ev.kind, (byKind.get(ev.kind) ?? 0) + 1);
    expect([...byKind.keys()].sort((a, b) => a - b)).toEqual([0, 5, 7, 1111, 9735]);
    expect(byKind.get(7)).toBeGreaterThan(SAMPLE * 0.35);
    expect(byKind.get(1111)).toBeGreaterThan(SAMPLE * 0.3);
    expect(byKind.get(9735)).toBeGreaterThan(SAMPLE * 0.03);
    // Every author has a profile, some have two.
    const versions = new Map<string, number>();
    for (const ev of events) if (ev.kind === 0) versions.set(ev.pubkey, (versions.get(ev.pubkey) ?? 0) + 1);
    const authors = new Set(events.filter((e) => e.kind !== 9735).map((e) => e.pubkey));
    for (const a of authors) expect(versions.has(a)).toBe(true);
    expect([...versions.values()].filter((v) => v === 2).length).toBeGreaterThan(0);
    const latest = new Map<string, number>();
    for (const ev of events.filter((e) => e.kind === 0)) {
      expect(ev.created_at).toBeGreaterThan(latest.get(ev.pubkey) ?? 0);
      latest.set(ev.pubkey, ev.created_at);
    }
    for (const ev of events.filter((e) => e.kind === 0)) expect(() => JSON.parse(ev.content) as unknown).not.toThrow();
  });

  it('builds NIP-22 subclaw posts and threaded replies', () => {
    const byId = new Map(events.map((e) => [e.id, e]));
    const depth = new Map<string, number>();
    let top = 0;
    let ai = 0;
    const subclaws = new Set<string>();
    for (const ev of events.filter((e) => e.kind === 1111)) {
      const root = first(ev, 'I') as string;
      expect(root).toMatch(/^https:\/\/clawstr\.com\/c\/[a-z0-9_-]+$/);
      expect(first(ev, 'K')).toBe('web');
      subclaws.add(root);
      const labelled = tag(ev, 'L').some((t) => t[1] === 'agent') && tag(ev, 'l').some((t) => t[1] === 'ai' && t[2] === 'agent');
      const parent = tag(ev, 'e')[0];
      if (!parent) {
        top++;
        if (labelled) ai++;
        expect(first(ev, 'i')).toBe(root);
        expect(first(ev, 'k')).toBe('web');
        depth.set(ev.id, 0);
      } else {
        const p = byId.get(parent[1] as string) as NostrEvent;
        expect(p.kind).toBe(1111);
        expect(parent[3]).toBe(p.pubkey);
        expect(first(ev, 'p')).toBe(p.pubkey);
        expect(first(ev, 'k')).toBe('1111');
        expect(first(p, 'I')).toBe(root);
        depth.set(ev.id, (depth.get(p.id) as number) + 1);
      }
    }
    expect(top / SAMPLE).toBeGreaterThan(0.06);
    expect(ai / top).toBeGreaterThan(0.3);
    expect(ai / top).toBeLessThan(0.7);
    const maxDepth = Math.max(...depth.values());
    expect(maxDepth).toBeLessThanOrEqual(MAX_DEPTH);
    expect(maxDepth).toBeGreaterThanOrEqual(3);
    expect(subclaws.size).toBeGreaterThan(20);
    expect(take(300, 1, { subclaws: 3 }).filter((e) => e.kind === 1111).every((e) => /\/c\/(ai|agents|programming)$/.test(first(e, 'I') ?? ''))).toBe(true);
  });

  it('builds NIP-25 reactions, including second votes by the same reactor', () => {
    const byId = new Map(events.map((e) => [e.id, e]));
    const contents = new Set<string>();
    const pairs = new Map<string, number>();
    for (const ev of events.filter((e) => e.kind === 7)) {
      const target = byId.get(first(ev, 'e') as string) as NostrEvent;
      expect(first(ev, 'p')).toBe(target.pubkey);
      expect(first(ev, 'k')).toBe('1111');
      contents.add(ev.content === '+' || ev.content === '-' ? ev.content : 'emoji');
      const key = `${ev.pubkey}:${target.id}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    expect([...contents].sort()).toEqual(['+', '-', 'emoji']);
    expect([...pairs.values()].some((n) => n >= 2)).toBe(true);
  });

  it('builds NIP-57 zap receipts around valid signed kind-9734 requests', () => {
    const servers = new Set(lnurlServerPubkeys(1));
    const byId = new Map(events.map((e) => [e.id, e]));
    const zaps = events.filter((e) => e.kind === 9735);
    expect(zaps.length).toBeGreaterThan(20);
    for (const receipt of zaps) {
      expect(servers.has(receipt.pubkey)).toBe(true);
      const request = JSON.parse(first(receipt, 'description') as string) as NostrEvent;
      expect(request.kind).toBe(9734);
      expect(verifyEvent(request)).toBe(true);
      const ps = tag(request, 'p');
      expect(ps).toHaveLength(1);
      expect(ps[0]?.[1]).toBe(first(receipt, 'p'));
      expect(first(request, 'e')).toBe(first(receipt, 'e'));
      expect(first(receipt, 'P')).toBe(request.pubkey);
      expect(tag(request, 'relays')[0]?.length).toBeGreaterThan(1);
      const target = byId.get(first(receipt, 'e') as string) as NostrEvent;
      expect(target.pubkey).toBe(first(receipt, 'p'));
      const msat = bolt11Msat(first(receipt, 'bolt11') as string);
      expect(msat).not.toBeNull();
      expect(String(msat)).toBe(first(request, 'amount'));
      expect(request.created_at).toBeLessThanOrEqual(receipt.created_at);
    }
  });

  it('deletes only the deleter’s own posts and reactions', () => {
    const byId = new Map(events.map((e) => [e.id, e]));
    const deletions = events.filter((e) => e.kind === 5);
    expect(deletions.length).toBeGreaterThan(0);
    for (const del of deletions) {
      const target = byId.get(first(del, 'e') as string) as NostrEvent;
      expect(target.pubkey).toBe(del.pubkey);
      expect(first(del, 'k')).toBe(String(target.kind));
      expect([1111, 7]).toContain(target.kind);
    }
  });
});
