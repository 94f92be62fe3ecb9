import { describe, expect, it } from 'vitest';
import { finalizeEvent } from 'nostr-tools/pure';
import { screen } from '../../../src/ingest/pipeline/screen.js';
import { secretKeys } from '../../fixtures/hand-built.js';

const NOW = 1_800_000_000;
const limits = { maxFutureSeconds: 900, maxEventBytes: 64 * 1024 };
const event = (kind: number, tags: string[][] = [], content = 'x') =>
  finalizeEvent({ kind, created_at: NOW - 10, tags, content }, secretKeys.alice);

describe('screen (pure: before dedupe and any crypto)', () => {
  it('passes a storable event', () => {
    const e = event(1);
    expect(screen(e, undefined, limits, NOW)).toMatchObject({ ok: true, event: { id: e.id, kind: 1 } });
  });

  it('rejects a malformed value with the shape check reason', () => {
    expect(screen({ kind: 1 }, undefined, limits, NOW)).toMatchObject({ ok: false, rejected: expect.any(String) });
    expect(screen(event(1), 10 * 64 * 1024, limits, NOW)).toMatchObject({ ok: false, rejected: expect.any(String) });
  });

  it('drops ephemeral kinds and events expired at or before now (NIP-40), keeps later expirations', () => {
    expect(screen(event(20_001), undefined, limits, NOW)).toEqual({ ok: false, dropped: 'ephemeral' });
    expect(screen(event(1, [['expiration', String(NOW)]]), undefined, limits, NOW)).toEqual({ ok: false, dropped: 'expired' });
    expect(screen(event(1, [['expiration', String(NOW + 1)]]), undefined, limits, NOW)).toMatchObject({ ok: true });
    // A malformed expiration never makes an event disappear.
    expect(screen(event(1, [['expiration', '12abc']]), undefined, limits, NOW)).toMatchObject({ ok: true });
  });

  it('rejects what Postgres cannot store', () => {
    expect(screen(event(1, [], 'nul \u0000 here'), undefined, limits, NOW)).toEqual({ ok: false, rejected: 'nul_character' });
  });
});
