/**
 * A frame size limit of its own for NIP-77 NEG-MSG frames, decided on the raw bytes before any
 * parse. strfry caps a negentropy message at 500,000 bytes before hex encoding, so its NEG-MSG
 * frames reach ~1,000,030 bytes on the wire: over the 512 KiB that bounds ordinary frames
 * (MAX_FRAME_BYTES), which made the daemon drop strfry's first answer on any large range. Only a
 * frame that starts as a NEG-MSG, arriving while one of our sessions is open, gets the larger
 * limit; everything else keeps the ordinary one. Pure.
 */

/** strfry's 500,000 bytes as hex (1,000,000), the frame's JSON around it, and room to spare. */
export const DEFAULT_MAX_NEG_FRAME_BYTES = 1_100_000;

export interface FrameLimits {
  maxFrameBytes: number;
  maxNegFrameBytes: number;
}

const NEG_MSG_HEAD = Buffer.from('"NEG-MSG"');

/** Whether the frame starts as `["NEG-MSG"` (JSON whitespace allowed), read from its first bytes. */
export function startsAsNegMessage(frame: Buffer): boolean {
  let i = 0;
  const skipSpace = () => {
    while (i < frame.length && (frame[i] === 0x20 || frame[i] === 0x09 || frame[i] === 0x0a || frame[i] === 0x0d)) i++;
  };
  skipSpace();
  if (frame[i] !== 0x5b) return false; // [
  i++;
  skipSpace();
  return frame.subarray(i, i + NEG_MSG_HEAD.length).equals(NEG_MSG_HEAD);
}

/** Whether a frame of `frame.length` bytes may be parsed. */
export function frameWithinLimit(frame: Buffer, limits: FrameLimits, negSessionOpen: boolean): boolean {
  if (frame.length <= limits.maxFrameBytes) return true;
  return negSessionOpen && frame.length <= limits.maxNegFrameBytes && startsAsNegMessage(frame);
}
