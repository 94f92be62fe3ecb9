import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkEventShape, SHAPE_REJECT_REASONS } from '../../src/nostr/event-shape.js';
import type { ShapeCheckOptions, ShapeRejectReason } from '../../src/nostr/event-shape.js';
import { corpusPath } from '../fixtures/corpus.js';

const lines = readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.trim() !== '');

const NOW = 1_700_000_000;
const opts: ShapeCheckOptions = { now: NOW, maxFutureSeconds: 900, maxEventBytes: 64 * 1024 };

const base = {
  id: 'a'.repeat(64),
  pubkey: 'b'.repeat(64),
  created_at: NOW - 60,
  kind: 1,
  tags: [['e', 'c'.repeat(64)], ['t', 'nostr']],
  content: 'hello',
  sig: 'd'.repeat(128),
};

function reasonOf(value: unknown, o: ShapeCheckOptions = opts): ShapeRejectReason | 'ok' {
  const r = checkEventShape(value, o);
  return r.ok ? 'ok' : r.reason;
}

describe('checkEventShape on the real corpus', () => {
  it('accepts every event, with and without a known byte size', () => {
    expect(lines.length).toBe(2219);
    const o = { ...opts, now: Math.floor(Date.now() / 1000), maxEventBytes: 1024 * 1024 };
    for (const line of lines) {
      const raw: unknown = JSON.parse(line);
      const measured = checkEventShape(raw, o);
      const given = checkEventShape(raw, { ...o, serializedBytes: Buffer.byteLength(line) });
      expect(measured.ok ? 'ok' : measured.reason).toBe('ok');
      expect(given.ok ? 'ok' : given.reason).toBe('ok');
      if (measured.ok) expect(measured.event).toEqual(raw);
    }
  });
});

describe('checkEventShape', () => {
  it('accepts a well-formed event and keeps only the seven NIP-01 fields', () => {
    const r = checkEventShape({ ...base, relay: 'wss://x', seen: true }, opts);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Object.keys(r.event).sort()).toEqual(['content', 'created_at', 'id', 'kind', 'pubkey', 'sig', 'tags']);
      expect(r.event).toEqual(base);
    }
  });

  it('rejects non-objects', () => {
    for (const v of [null, undefined, 1, 'x', true, [], [base]]) expect(reasonOf(v)).toBe('not_object');
  });

  it('rejects bad ids, pubkeys and sigs, uppercase hex included', () => {
    for (const id of ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), 1, null, undefined]) {
      expect(reasonOf({ ...base, id })).toBe('bad_id');
    }
    expect(reasonOf({ ...base, id: 'a'.repeat(63) + 'F' })).toBe('bad_id');
    for (const pubkey of ['B'.repeat(64), 'b'.repeat(66), ` ${'b'.repeat(63)}`, 42]) {
      expect(reasonOf({ ...base, pubkey })).toBe('bad_pubkey');
    }
    for (const sig of ['D'.repeat(128), 'd'.repeat(127) + 'E', 'd'.repeat(64), 'd'.repeat(130), {}]) {
      expect(reasonOf({ ...base, sig })).toBe('bad_sig');
    }
  });

  it('rejects kinds that are not integers in 0..65535', () => {
    for (const kind of [1.5, -1, 65536, '1', NaN, Infinity, null, 2 ** 53]) {
      expect(reasonOf({ ...base, kind })).toBe('bad_kind');
    }
    expect(reasonOf({ ...base, kind: 0 })).toBe('ok');
    expect(reasonOf({ ...base, kind: 65535 })).toBe('ok');
  });

  it('rejects created_at that is not a non-negative safe integer', () => {
    for (const created_at of [1.5, -1, '1700000000', NaN, 2 ** 53, null]) {
      expect(reasonOf({ ...base, created_at })).toBe('bad_created_at');
    }
    expect(reasonOf({ ...base, created_at: 0 })).toBe('ok');
  });

  it('rejects tags that are not arrays of arrays of strings', () => {
    for (const tags of [null, 'e', {}, [['e', 1]], [['e', 'x'], 'p'], [['e', null]], [[['nested']]]]) {
      expect(reasonOf({ ...base, tags })).toBe('bad_tags');
    }
    expect(reasonOf({ ...base, tags: [] })).toBe('ok');
    expect(reasonOf({ ...base, tags: [[]] })).toBe('ok');
  });

  it('rejects content that is not a string', () => {
    for (const content of [null, undefined, 1, {}, ['x']]) expect(reasonOf({ ...base, content })).toBe('bad_content');
    expect(reasonOf({ ...base, content: '' })).toBe('ok');
  });

  it('rejects created_at beyond the allowed future skew', () => {
    expect(reasonOf({ ...base, created_at: NOW + 900 })).toBe('ok');
    expect(reasonOf({ ...base, created_at: NOW + 901 })).toBe('future');
    expect(reasonOf({ ...base, created_at: NOW + 10 }, { ...opts, maxFutureSeconds: 0 })).toBe('future');
  });

  it('rejects oversize events by the given byte count, else by their JSON', () => {
    const small = { ...opts, maxEventBytes: 1000 };
    expect(reasonOf(base, { ...small, serializedBytes: 1001 })).toBe('too_large');
    expect(reasonOf(base, { ...small, serializedBytes: 1000 })).toBe('ok');
    // Multi-byte characters count in bytes, not UTF-16 units.
    expect(reasonOf({ ...base, content: 'é'.repeat(250) }, small)).toBe('ok');
    expect(reasonOf({ ...base, content: 'é'.repeat(350) }, small)).toBe('too_large');
    // A known size is trusted over the object (the caller measured the raw frame).
    expect(reasonOf({ ...base, content: 'x'.repeat(5000) }, { ...small, serializedBytes: 900 })).toBe('ok');
  });

  it('lists every reason once, and each one is reachable', () => {
    expect(new Set(SHAPE_REJECT_REASONS).size).toBe(SHAPE_REJECT_REASONS.length);
    const seen = new Set<string>([
      reasonOf(null),
      reasonOf(base, { ...opts, serializedBytes: opts.maxEventBytes + 1 }),
      reasonOf({ ...base, id: 'A'.repeat(64) }),
      reasonOf({ ...base, pubkey: 'x' }),
      reasonOf({ ...base, sig: 'x' }),
      reasonOf({ ...base, kind: 1.5 }),
      reasonOf({ ...base, created_at: -5 }),
      reasonOf({ ...base, tags: [['e', 1]] }),
      reasonOf({ ...base, content: 1 }),
      reasonOf({ ...base, created_at: NOW + 3600 }),
    ]);
    expect([...seen].sort()).toEqual([...SHAPE_REJECT_REASONS].sort());
  });
});
