/**
 * The most recent `capacity` event ids, in fixed memory: each id is kept as its first 64 bits in
 * typed arrays (open addressing, linear probing), evicted oldest first, with a 32-bit tag beside it
 * (the pipeline keeps the first 32 bits of the signature that verified). About 38 bytes per id
 * instead of ~120 for a Set of 64-character strings, and no garbage per lookup, which keeps a
 * million-event backfill inside its memory budget.
 *
 * Two ids sharing a 64-bit prefix count as one. Ids are SHA-256 outputs: among 500,000 ids the
 * chance of any such pair is ~7e-9, and steering a stranger's future id onto a remembered prefix
 * would take ~2^64 work.
 */
const EMPTY = 0;
const FULL = 1;
const DELETED = 2;

export class IdPrefixSet {
  private readonly mask: number;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly tag: Uint32Array;
  private readonly state: Uint8Array;
  /** Insertion order, as a ring of keys: the oldest is evicted first. */
  private readonly ringHi: Uint32Array;
  private readonly ringLo: Uint32Array;
  private readonly ringTag: Uint32Array;
  private head = 0;
  private count = 0;
  private deleted = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`invalid capacity ${capacity}`);
    // At most half full, plus deleted slots (rebuilt past a quarter): probes stay short.
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
    this.tag = new Uint32Array(size);
    this.state = new Uint8Array(size);
    this.ringHi = new Uint32Array(capacity);
    this.ringLo = new Uint32Array(capacity);
    this.ringTag = new Uint32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  has(id: string): boolean {
    return this.find(keyHi(id), keyLo(id)) >= 0;
  }

  /** The tag `id` was added with; undefined when absent. */
  tagOf(id: string): number | undefined {
    const slot = this.find(keyHi(id), keyLo(id));
    return slot < 0 ? undefined : this.tag[slot];
  }

  /** Adds `id` with `tag` (no-op if present: the first tag stays), evicting the oldest id when full. */
  add(id: string, tag = 0): void {
    const hi = keyHi(id);
    const lo = keyLo(id);
    if (this.find(hi, lo) >= 0) return;
    if (this.count === this.capacity) this.evictOldest();
    this.insert(hi, lo, tag);
    const at = (this.head + this.count) % this.capacity;
    this.ringHi[at] = hi;
    this.ringLo[at] = lo;
    this.ringTag[at] = tag;
    this.count++;
  }

  private find(hi: number, lo: number): number {
    for (let slot = lo & this.mask; ; slot = (slot + 1) & this.mask) {
      const s = this.state[slot]!;
      if (s === EMPTY) return -1;
      if (s === FULL && this.lo[slot] === lo && this.hi[slot] === hi) return slot;
    }
  }

  private insert(hi: number, lo: number, tag: number): void {
    let slot = lo & this.mask;
    while (this.state[slot] === FULL) slot = (slot + 1) & this.mask;
    if (this.state[slot] === DELETED) this.deleted--;
    this.state[slot] = FULL;
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    this.tag[slot] = tag;
  }

  private evictOldest(): void {
    const slot = this.find(this.ringHi[this.head]!, this.ringLo[this.head]!);
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    if (slot < 0) return;
    this.state[slot] = DELETED;
    if (++this.deleted > (this.mask + 1) / 4) this.rebuild();
  }

  /** Clears deleted slots by re-inserting the live keys (in ring order). */
  private rebuild(): void {
    this.state.fill(EMPTY);
    this.deleted = 0;
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) % this.capacity;
      this.insert(this.ringHi[at]!, this.ringLo[at]!, this.ringTag[at]!);
    }
  }
}

/** The id's first 32 bits; ids reaching here are 64 lowercase hex characters (shape-checked). */
function keyHi(id: string): number {
  return hex32(id, 0);
}

/** Bits 32..63: uniformly spread (a hash output), so they also pick the slot. */
function keyLo(id: string): number {
  return hex32(id, 8);
}

/** Eight lowercase hex characters from `at` as an unsigned 32-bit number (no substring made). */
export function hex32(id: string, at: number): number {
  let value = 0;
  for (let i = at; i < at + 8; i++) {
    const c = id.charCodeAt(i);
    value = value * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57);
  }
  return value >>> 0;
}

/** hex32 of eight lowercase hex bytes of `buf` from `at`; -1 if any is not one. */
export function hex32Bytes(buf: Buffer, at: number): number {
  let value = 0;
  for (let i = at; i < at + 8; i++) {
    const c = buf[i];
    if (c === undefined || !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return -1;
    value = value * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57);
  }
  return value >>> 0;
}
