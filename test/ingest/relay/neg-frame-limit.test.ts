import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_NEG_FRAME_BYTES, frameWithinLimit, startsAsNegMessage } from '../../../src/ingest/relay/neg-frame-limit.js';
import { STRFRY_FRAME_SIZE_LIMIT } from '../../helpers/negentropy-responder.js';

const limits = { maxFrameBytes: 524_288, maxNegFrameBytes: DEFAULT_MAX_NEG_FRAME_BYTES };
const frame = (text: string) => Buffer.from(text);
/** The largest NEG-MSG strfry sends: a 500,000-byte message as hex. */
const strfryNegMsg = frame(JSON.stringify(['NEG-MSG', 'backfill-0123456789abcdef', 'ab'.repeat(STRFRY_FRAME_SIZE_LIMIT)]));

describe('NEG-MSG frame limit', () => {
  it("accepts strfry's largest NEG-MSG while a session is open, not otherwise", () => {
    expect(strfryNegMsg.length).toBeGreaterThan(1_000_000);
    expect(frameWithinLimit(strfryNegMsg, limits, true)).toBe(true);
    expect(frameWithinLimit(strfryNegMsg, limits, false)).toBe(false);
  });

  it('keeps the ordinary limit for every other frame, and a limit for NEG-MSG too', () => {
    const event = frame(JSON.stringify(['EVENT', 's', { content: 'x'.repeat(600_000) }]));
    expect(frameWithinLimit(event, limits, true)).toBe(false);
    expect(frameWithinLimit(frame(JSON.stringify(['NEG-MSG', 's', 'ab'.repeat(600_000)])), limits, true)).toBe(false);
    expect(frameWithinLimit(frame('["EOSE","s"]'), limits, false)).toBe(true);
  });

  it('reads the head from the bytes, JSON whitespace allowed', () => {
    expect(startsAsNegMessage(frame(' [ "NEG-MSG","s","61"]'))).toBe(true);
    expect(startsAsNegMessage(frame('["NEG-ERR","s","closed"]'))).toBe(false);
    expect(startsAsNegMessage(frame('["EVENT","NEG-MSG"]'))).toBe(false);
    expect(startsAsNegMessage(frame('{"NEG-MSG":1}'))).toBe(false);
    expect(startsAsNegMessage(frame(''))).toBe(false);
  });
});
