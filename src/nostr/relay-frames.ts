/**
 * NIP-01 relay-to-client frames: a pure parser that turns one WebSocket text frame into a tagged
 * value, and the serialisers for the client-to-relay frames the daemon sends. The parser never
 * throws: anything it cannot use becomes `{ type: 'invalid', reason }`, with reasons from a closed
 * list so health can count them per reason. Event *contents* are not checked here (the pipeline's
 * shape check and verification do that); only the frame's structure is.
 */
import type { Filter } from 'nostr-tools/filter';
import type { NostrEvent } from './types.js';

/** Every reason a frame is invalid, in check order (for per-reason counters). */
export const FRAME_INVALID_REASONS = [
  'frame_too_large',
  'bad_json',
  'not_array',
  'empty_array',
  'bad_type',
  'unknown_type',
  'bad_event_frame',
  'bad_eose_frame',
  'bad_closed_frame',
  'bad_notice_frame',
  'bad_ok_frame',
  'bad_auth_frame',
  'bad_count_frame',
  'bad_neg_frame',
] as const;

export type FrameInvalidReason = (typeof FRAME_INVALID_REASONS)[number];

export type RelayFrame =
  | { type: 'EVENT'; subscriptionId: string; event: unknown }
  | { type: 'EOSE'; subscriptionId: string }
  | { type: 'CLOSED'; subscriptionId: string; reason: string; prefix: string | null }
  | { type: 'NOTICE'; message: string }
  | { type: 'OK'; eventId: string; accepted: boolean; message: string; prefix: string | null }
  | { type: 'AUTH'; challenge: string }
  | { type: 'COUNT'; subscriptionId: string; count: number; approximate: boolean }
  | { type: 'NEG-MSG'; subscriptionId: string; payload: string }
  | { type: 'NEG-ERR'; subscriptionId: string; payload: string }
  | { type: 'invalid'; reason: FrameInvalidReason };

export type RelayFrameType = Exclude<RelayFrame['type'], 'invalid'>;

const invalid = (reason: FrameInvalidReason): RelayFrame => ({ type: 'invalid', reason });

// NIP-01 machine-readable prefixes are short lowercase words with dashes ("auth-required").
const PREFIX = /^([a-z][a-z0-9_-]{0,39}):/i;

/** The machine-readable prefix of a CLOSED/OK message (`'rate-limited'`), lowercased, or null. */
export function messagePrefix(message: string): string | null {
  const m = PREFIX.exec(message);
  return m ? m[1]!.toLowerCase() : null;
}

/**
 * Parses one text frame. `byteLength` is the frame's UTF-8 size when the caller has it (ws hands
 * over a Buffer, so it is free); the size is checked before JSON.parse so a huge frame costs no
 * parse. Without it the size is derived from the string, cheaply when the bound is obvious.
 */
export function parseRelayFrame(text: string, maxFrameBytes: number, byteLength?: number): RelayFrame {
  if (frameExceeds(text, maxFrameBytes, byteLength)) return invalid('frame_too_large');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('bad_json');
  }
  if (!Array.isArray(value)) return invalid('not_array');
  if (value.length === 0) return invalid('empty_array');
  const [type] = value as unknown[];
  if (typeof type !== 'string') return invalid('bad_type');
  const f = value as unknown[];
  switch (type) {
    case 'EVENT':
      // The event itself is only checked for being an object: its fields are the pipeline's job.
      if (f.length !== 3 || !isSubId(f[1]) || !isObject(f[2])) return invalid('bad_event_frame');
      return { type: 'EVENT', subscriptionId: f[1], event: f[2] };
    case 'EOSE':
      if (f.length !== 2 || !isSubId(f[1])) return invalid('bad_eose_frame');
      return { type: 'EOSE', subscriptionId: f[1] };
    case 'CLOSED': {
      // Some relays omit the message; NIP-01 makes it required but an empty reason is harmless.
      if ((f.length !== 2 && f.length !== 3) || !isSubId(f[1])) return invalid('bad_closed_frame');
      const reason = f.length === 3 ? f[2] : '';
      if (typeof reason !== 'string') return invalid('bad_closed_frame');
      return { type: 'CLOSED', subscriptionId: f[1], reason, prefix: messagePrefix(reason) };
    }
    case 'NOTICE':
      if (f.length !== 2 || typeof f[1] !== 'string') return invalid('bad_notice_frame');
      return { type: 'NOTICE', message: f[1] };
    case 'OK': {
      // Old relays send ["OK", id, bool] without a message.
      if (f.length !== 3 && f.length !== 4) return invalid('bad_ok_frame');
      const [, eventId, accepted, message = ''] = f;
      if (typeof eventId !== 'string' || typeof accepted !== 'boolean' || typeof message !== 'string') {
        return invalid('bad_ok_frame');
      }
      return { type: 'OK', eventId, accepted, message, prefix: messagePrefix(message) };
    }
    case 'AUTH':
      if (f.length !== 2 || typeof f[1] !== 'string' || f[1] === '') return invalid('bad_auth_frame');
      return { type: 'AUTH', challenge: f[1] };
    case 'COUNT': {
      if (f.length !== 3 || !isSubId(f[1]) || !isObject(f[2])) return invalid('bad_count_frame');
      const body = f[2] as Record<string, unknown>;
      const count = body.count;
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
        return invalid('bad_count_frame');
      }
      return { type: 'COUNT', subscriptionId: f[1], count, approximate: body.approximate === true };
    }
    case 'NEG-MSG':
    case 'NEG-ERR':
      // NIP-77: a NEG-MSG carries a hex-encoded negentropy message (checked to be hex here, decoded
      // by the negentropy session); a NEG-ERR carries a NIP-01 style reason.
      if (f.length !== 3 || !isSubId(f[1]) || typeof f[2] !== 'string') return invalid('bad_neg_frame');
      if (type === 'NEG-MSG' && !isHex(f[2])) return invalid('bad_neg_frame');
      return { type, subscriptionId: f[1], payload: f[2] };
    default:
      return invalid('unknown_type');
  }
}

function frameExceeds(text: string, max: number, byteLength: number | undefined): boolean {
  if (byteLength !== undefined) return byteLength > max;
  // UTF-8 takes at least one byte per UTF-16 unit and at most three, so most frames need no count.
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return Buffer.byteLength(text, 'utf8') > max;
}

function isSubId(value: unknown): value is string {
  return typeof value === 'string';
}

const HEX = /^(?:[0-9a-f]{2})+$/i;

function isHex(value: string): boolean {
  return HEX.test(value);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** NIP-01 limits subscription ids to 1..64 characters. */
export function isValidSubscriptionId(id: string): boolean {
  return id.length >= 1 && id.length <= 64;
}

export function serializeReq(subscriptionId: string, filters: readonly Filter[]): string {
  return JSON.stringify(['REQ', subscriptionId, ...filters]);
}

export function serializeClose(subscriptionId: string): string {
  return JSON.stringify(['CLOSE', subscriptionId]);
}

export function serializeAuth(event: NostrEvent): string {
  return JSON.stringify(['AUTH', event]);
}

export function serializeCount(subscriptionId: string, filters: readonly Filter[]): string {
  return JSON.stringify(['COUNT', subscriptionId, ...filters]);
}

/** NIP-77: opens a negentropy session over the events matching `filter`. */
export function serializeNegOpen(subscriptionId: string, filter: Filter, message: string): string {
  return JSON.stringify(['NEG-OPEN', subscriptionId, filter, message]);
}

export function serializeNegMsg(subscriptionId: string, message: string): string {
  return JSON.stringify(['NEG-MSG', subscriptionId, message]);
}

export function serializeNegClose(subscriptionId: string): string {
  return JSON.stringify(['NEG-CLOSE', subscriptionId]);
}

/** What an EVENT frame says about its event before any JSON parsing: enough to skip a duplicate. */
export interface EventFramePeek {
  subscriptionId: string;
  id: string;
  /** null when not found in the expected form. */
  createdAt: number | null;
}

// Byte values the peek looks for (JSON structure is ASCII; in UTF-8 these bytes never occur inside
// a multi-byte character, so a byte search finds exactly what a character search would).
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const EVENT_WORD = Buffer.from('"EVENT"');
const ID_KEY = Buffer.from('"id"');
const PUBKEY_KEY = Buffer.from('"pubkey"');
const CREATED_AT_KEY = Buffer.from('"created_at"');
const SIG_KEY = Buffer.from('"sig"');
const isSpace = (b: number | undefined) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
const isLowerHex = (b: number | undefined) => b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66));

/** Index of the first byte at or after `at` that is not JSON whitespace. */
function skipSpace(buf: Buffer, at: number): number {
  while (isSpace(buf[at])) at++;
  return at;
}

function bytesAt(buf: Buffer, at: number, word: Buffer): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

/** Where the value of key `key` (quoted) starts if the key is at `at`: after `:` and spaces; else -1. */
function valueAfterKey(buf: Buffer, at: number, key: Buffer): number {
  if (!bytesAt(buf, at, key)) return -1;
  const colon = skipSpace(buf, at + key.length);
  return buf[colon] === COLON ? skipSpace(buf, colon + 1) : -1;
}

/**
 * Where the value of object key `key` starts: the key as the object's first member at `first`, or
 * else its first occurrence followed by a colon; -1 if none. An unescaped `"key"` followed by a colon
 * can only be an object key: inside a JSON string every quote is escaped.
 */
function valueOf(buf: Buffer, key: Buffer, first: number): number {
  const direct = valueAfterKey(buf, first, key);
  if (direct >= 0) return direct;
  for (let at = buf.indexOf(key, first); at >= 0; at = buf.indexOf(key, at + 1)) {
    const value = valueAfterKey(buf, at, key);
    if (value >= 0) return value;
  }
  return -1;
}

/**
 * Reads the subscription id, event id and created_at of an EVENT frame, as the bytes the socket
 * delivered, without decoding or parsing it; null if the frame does not look like one. An event has
 * no nested objects; a hostile frame that nests one can only mislabel itself. Used to take copies of
 * events already seen without parsing them, so the worst a lying frame can do is lose itself.
 * Written for the common layout (`["EVENT","sub",{"id":"…","pubkey":"…","created_at":…`) without
 * depending on it.
 */
export function peekEventFrame(buf: Buffer): EventFramePeek | null {
  let at = skipSpace(buf, 0);
  if (buf[at] !== OPEN_BRACKET) return null;
  at = skipSpace(buf, at + 1);
  if (!bytesAt(buf, at, EVENT_WORD)) return null;
  at = skipSpace(buf, at + EVENT_WORD.length);
  if (buf[at] !== COMMA) return null;
  at = skipSpace(buf, at + 1);
  if (buf[at] !== QUOTE) return null;
  const subStart = at + 1;
  let subEnd = subStart;
  while (subEnd < buf.length && buf[subEnd] !== QUOTE) {
    if (buf[subEnd] === BACKSLASH) return null; // an escaped subscription id is left to the full parse
    subEnd++;
  }
  if (subEnd === subStart || subEnd >= buf.length || subEnd - subStart > 256) return null;
  at = skipSpace(buf, subEnd + 1);
  if (buf[at] !== COMMA) return null;
  at = skipSpace(buf, at + 1);
  if (buf[at] !== OPEN_BRACE) return null;
  const first = skipSpace(buf, at + 1);

  const idQuote = valueOf(buf, ID_KEY, first);
  if (idQuote < 0 || buf[idQuote] !== QUOTE || buf[idQuote + 65] !== QUOTE) return null;
  for (let i = idQuote + 1; i <= idQuote + 64; i++) if (!isLowerHex(buf[i])) return null;

  let createdAt: number | null = null;
  // Usually right after the id and pubkey; anywhere in the object otherwise.
  const afterId = skipSpace(buf, idQuote + 66);
  const pubkeyValue = buf[afterId] === COMMA ? valueAfterKey(buf, skipSpace(buf, afterId + 1), PUBKEY_KEY) : -1;
  const next = pubkeyValue >= 0 && buf[pubkeyValue + 65] === QUOTE ? skipSpace(buf, pubkeyValue + 66) : -1;
  const direct = next >= 0 && buf[next] === COMMA ? valueAfterKey(buf, skipSpace(buf, next + 1), CREATED_AT_KEY) : -1;
  const digits = direct >= 0 ? direct : valueOf(buf, CREATED_AT_KEY, first);
  if (digits >= 0) {
    let value = 0;
    let end = digits;
    while (isDigit(buf[end]) && end - digits < 16) value = value * 10 + (buf[end++]! - 0x30);
    const after = buf[end];
    if (end > digits && end - digits <= 15 && (after === COMMA || after === CLOSE_BRACE || isSpace(after))) createdAt = value;
  }
  return { subscriptionId: buf.toString('utf8', subStart, subEnd), id: buf.toString('latin1', idQuote + 1, idQuote + 65), createdAt };
}

/**
 * Where the signature of an EVENT frame's event starts (the first of its 128 characters, between
 * quotes), without a parse; -1 if not found in that form. Like the id peek, a hostile frame can only
 * mislabel itself: the pipeline lets a peeked signature count only when it is the one that verified.
 */
export function peekEventSigAt(buf: Buffer): number {
  // From the end: the signature is usually the last member, and the frame is otherwise scanned whole.
  for (let at = buf.lastIndexOf(SIG_KEY); at >= 0; at = at > 0 ? buf.lastIndexOf(SIG_KEY, at - 1) : -1) {
    const quote = valueAfterKey(buf, at, SIG_KEY);
    if (quote < 0) continue;
    return buf[quote] === QUOTE && buf[quote + 129] === QUOTE ? quote + 1 : -1;
  }
  return -1;
}

/** The signature peekEventSigAt finds, if it is 128 lowercase hex characters; else null. */
export function peekEventSig(buf: Buffer): string | null {
  const start = peekEventSigAt(buf);
  if (start < 0) return null;
  for (let i = start; i < start + 128; i++) if (!isLowerHex(buf[i])) return null;
  return buf.toString('latin1', start, start + 128);
}
