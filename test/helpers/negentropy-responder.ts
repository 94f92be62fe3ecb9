/**
 * The relay side of NIP-77 (negentropy protocol v1) for the test relay, behaving as the reference
 * implementation (hoytech/negentropy) does when strfry runs it. nostr-tools' Negentropy plays the
 * initiator only: handed a range in IdList mode it computes have/need instead of answering with its
 * own ids, so a client whose range holds fewer than 32 items would learn nothing. The responder
 * role is therefore written here, over nostr-tools' NegentropyStorageVector (sorted items,
 * fingerprints, lower bounds), following the protocol description in NIP-77's appendix:
 *
 *   message  = version byte 0x61, then ranges
 *   range    = upper bound, mode (varint: 0 skip, 1 fingerprint + 16 bytes, 2 id list: count + ids)
 *   bound    = timestamp (varint, delta from the previous one in the message, +1; 0 = infinity),
 *              id prefix length (varint) and bytes
 *   varint   = base 128, most significant group first, high bit set on all but the last byte
 *
 * A responder answers each range: a matching fingerprint is skipped, a differing one is split (into
 * 16 fingerprinted buckets, or its own id list below 32 items), and an id list is answered with the
 * responder's own ids for that range. The exchange ends when the answer is the version byte alone.
 *
 * As the reference does:
 * - A frame size limit (strfry: 500,000 bytes before hex, so NEG-MSG frames of ~1 MB on the wire).
 *   Output stops 200 bytes short of it: an id list is cut at the item that would pass it, and the
 *   rest of the set, from there to infinity, is sent as one fingerprint the initiator asks again.
 * - A version byte outside 0x60-0x6f cannot be decoded (strfry then answers `NEG-ERR PROTOCOL-ERROR`);
 *   another version inside it is answered with the version byte alone (version negotiation).
 */
import { nip77 } from 'nostr-tools';

const VERSION = 0x61;
const SKIP = 0;
const FINGERPRINT = 1;
const ID_LIST = 2;
const ID_SIZE = 32;
const FINGERPRINT_SIZE = 16;
const BUCKETS = 16;
/** strfry's: `Negentropy ne(storage, 500'000)` in its relay's negentropy worker. */
export const STRFRY_FRAME_SIZE_LIMIT = 500_000;
/** The reference refuses smaller limits. */
const MIN_FRAME_SIZE_LIMIT = 4096;
/** Room the reference keeps below the limit for the closing fingerprint. */
const FRAME_RESERVE = 200;
/** nostr-tools' storage compares bounds with Number.MAX_VALUE as the infinite timestamp. */
const INFINITY = Number.MAX_VALUE;

interface Bound {
  timestamp: number;
  id: Uint8Array;
}

class Reader {
  private pos = 0;
  private last = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new Error('negentropy message ends prematurely');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  varint(): number {
    let value = 0;
    for (;;) {
      const byte = this.take(1)[0]!;
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) return value;
    }
  }

  bound(): Bound {
    const encoded = this.varint();
    let timestamp = encoded === 0 ? INFINITY : encoded - 1;
    if (this.last === INFINITY || timestamp === INFINITY) timestamp = INFINITY;
    else timestamp += this.last;
    this.last = timestamp;
    const length = this.varint();
    if (length > ID_SIZE) throw new Error('negentropy bound id too long');
    return { timestamp, id: this.take(length) };
  }
}

class Writer {
  private readonly out: number[] = [VERSION];
  private last = 0;

  get empty(): boolean {
    return this.out.length === 1;
  }

  get length(): number {
    return this.out.length;
  }

  /** Drops what was written after `length` (a range that would pass the frame size limit). */
  truncate(length: number): void {
    this.out.length = length;
  }

  bytes(bytes: Uint8Array): void {
    for (const b of bytes) this.out.push(b);
  }

  varint(n: number): void {
    const groups: number[] = [];
    do {
      groups.unshift(n % 128);
      n = Math.floor(n / 128);
    } while (n > 0);
    groups.forEach((g, i) => this.out.push(i < groups.length - 1 ? g | 0x80 : g));
  }

  bound(bound: Bound): void {
    if (bound.timestamp === INFINITY) {
      this.varint(0);
      this.last = INFINITY;
    } else {
      this.varint(bound.timestamp - this.last + 1);
      this.last = bound.timestamp;
    }
    this.varint(bound.id.length);
    this.bytes(bound.id);
  }

  hex(): string {
    return Buffer.from(this.out).toString('hex');
  }
}

export interface ResponderOptions {
  /** Largest message in bytes before hex; 0 = none. Default strfry's 500,000. */
  frameSizeLimit?: number;
}

export class NegentropyResponder {
  private readonly storage = new nip77.NegentropyStorageVector();
  private readonly frameSizeLimit: number;

  constructor(events: ReadonlyArray<{ id: string; created_at: number }>, options: ResponderOptions = {}) {
    this.frameSizeLimit = options.frameSizeLimit ?? STRFRY_FRAME_SIZE_LIMIT;
    if (this.frameSizeLimit !== 0 && this.frameSizeLimit < MIN_FRAME_SIZE_LIMIT) throw new Error('frameSizeLimit too small');
    for (const e of events) this.storage.insert(e.created_at, e.id);
    this.storage.seal();
  }

  /** Answers one initiator message (hex). Throws on a message it cannot decode. */
  respond(message: string): string {
    if (!/^(?:[0-9a-f]{2})+$/i.test(message)) throw new Error('negentropy message is not hex');
    const reader = new Reader(Buffer.from(message, 'hex'));
    const out = new Writer();
    const version = reader.take(1)[0]!;
    if (version < 0x60 || version > 0x6f) throw new Error('invalid negentropy protocol version byte');
    if (version !== VERSION) return out.hex();
    const size = this.storage.size();
    let prevIndex = 0;
    let prevBound: Bound = { timestamp: 0, id: new Uint8Array(0) };
    let skipping = false;
    // The storage index the ranges written so far reach: where a closing fingerprint starts.
    let written = 0;
    // Consecutive skipped ranges are sent as one skip up to the last of them, and only when
    // something follows (a trailing skip is implied).
    const flushSkip = () => {
      if (!skipping) return;
      skipping = false;
      out.bound(prevBound);
      out.varint(SKIP);
      written = prevIndex;
    };
    while (!reader.done) {
      const start = out.length;
      const writtenAtStart = written;
      const bound = reader.bound();
      const mode = reader.varint();
      const lower = prevIndex;
      let upper = this.storage.findLowerBound(prevIndex, size, bound);
      if (mode === SKIP) {
        skipping = true;
      } else if (mode === FINGERPRINT) {
        const theirs = reader.take(FINGERPRINT_SIZE);
        if (Buffer.compare(theirs, this.storage.fingerprint(lower, upper)) === 0) skipping = true;
        else {
          flushSkip();
          this.split(lower, upper, bound, out);
          written = upper;
        }
      } else if (mode === ID_LIST) {
        reader.take(ID_SIZE * reader.varint()); // their ids: the initiator works out have/need from ours
        flushSkip();
        upper = this.idList(lower, upper, bound, out);
        written = upper;
      } else {
        throw new Error(`unexpected negentropy mode ${mode}`);
      }
      if (this.exceeds(out.length)) {
        // As the reference: an id list cut to fit is kept, any other range that passes the limit
        // is dropped, and one fingerprint closes the message over everything after what was
        // written. (The reference starts that fingerprint at the dropped range's end, which can
        // make it match the initiator's while the dropped range differs; here it starts where the
        // written ranges end, the range the initiator compares.)
        if (mode !== ID_LIST) {
          out.truncate(start);
          written = writtenAtStart;
        }
        out.bound({ timestamp: INFINITY, id: new Uint8Array(0) });
        out.varint(FINGERPRINT);
        out.bytes(this.storage.fingerprint(written, size));
        break;
      }
      prevIndex = upper;
      prevBound = bound;
    }
    return out.hex();
  }

  private exceeds(bytes: number): boolean {
    return this.frameSizeLimit !== 0 && bytes > this.frameSizeLimit - FRAME_RESERVE;
  }

  /** Our ids of [lower, upper), cut where the frame would pass the limit. Returns the end used. */
  private idList(lower: number, upper: number, bound: Bound, out: Writer): number {
    const ids: Uint8Array[] = [];
    let end = upper;
    let endBound = bound;
    // The message so far plus the ids collected, as the reference counts it.
    const before = out.length;
    this.storage.iterate(lower, upper, (item) => {
      if (this.exceeds(before + ids.length * ID_SIZE)) {
        end = lower + ids.length;
        endBound = { timestamp: item.timestamp, id: item.id };
        return false;
      }
      ids.push(item.id);
      return true;
    });
    out.bound(endBound);
    out.varint(ID_LIST);
    out.varint(ids.length);
    for (const id of ids) out.bytes(id);
    return end;
  }

  private split(lower: number, upper: number, upperBound: Bound, out: Writer): void {
    const count = upper - lower;
    if (count < BUCKETS * 2) {
      out.bound(upperBound);
      out.varint(ID_LIST);
      out.varint(count);
      this.storage.iterate(lower, upper, (item) => {
        out.bytes(item.id);
        return true;
      });
      return;
    }
    const perBucket = Math.floor(count / BUCKETS);
    const extra = count % BUCKETS;
    let current = lower;
    for (let i = 0; i < BUCKETS; i++) {
      const bucketSize = perBucket + (i < extra ? 1 : 0);
      const fingerprint = this.storage.fingerprint(current, current + bucketSize);
      current += bucketSize;
      const bound = current === upper ? upperBound : minimalBound(this.storage.getItem(current - 1), this.storage.getItem(current));
      out.bound(bound);
      out.varint(FINGERPRINT);
      out.bytes(fingerprint);
    }
  }
}

/** The shortest bound that sorts after `prev` and not after `next`. */
function minimalBound(prev: Bound, next: Bound): Bound {
  if (prev.timestamp !== next.timestamp) return { timestamp: next.timestamp, id: new Uint8Array(0) };
  let shared = 0;
  while (shared < ID_SIZE && prev.id[shared] === next.id[shared]) shared++;
  return { timestamp: next.timestamp, id: next.id.subarray(0, shared + 1) };
}
