import { describe, expect, it } from 'vitest';
import { liveExtensionStart } from '../../../src/ingest/coverage/live-extension.js';

describe('liveExtensionStart', () => {
  it('nothing proven: no extension (the old range is not extended)', () => {
    expect(liveExtensionStart([{ since: 0, until: 1_000 }], null)).toBeNull();
  });

  it('a complete catch-up answer from inside the covered range extends it from its end', () => {
    // REQ since = covered_until - overlap, answer not capped: the proof starts inside the range.
    expect(liveExtensionStart([{ since: 0, until: 1_000 }], 940)).toBe(1_000);
    expect(liveExtensionStart([{ since: 0, until: 1_000 }], 1_001)).toBe(1_001); // touching: one range once merged
  });

  it('a capped one proves only after its oldest event: coverage starts there, the gap is left a hole', () => {
    // The case: covered to 1,000, the capped answer's oldest event at 1,200.
    expect(liveExtensionStart([{ since: 0, until: 1_000 }], 1_201)).toBe(1_201);
  });

  it('a proof already recorded as its own range extends from that range', () => {
    expect(liveExtensionStart([{ since: 0, until: 1_000 }, { since: 1_201, until: 1_250 }], 1_201)).toBe(1_250);
  });

  it('with no coverage yet, from the proof', () => {
    expect(liveExtensionStart([], 500)).toBe(500);
  });
});
