/**
 * Small tag helpers shared by the NIP modules. Relays send anything, so every value that becomes an
 * id or a key is shape-checked here first; a value that fails is treated as absent.
 */
import type { NostrEvent } from '../types.js';

type Tags = NostrEvent['tags'];

const HEX64 = /^[0-9a-f]{64}$/;
/** `kind:pubkey:d`, kind a decimal integer, pubkey lowercase hex; d may be empty or hold colons. */
const ADDRESS = /^(0|[1-9][0-9]{0,9}):([0-9a-f]{64}):([\s\S]*)$/;

/** A 64-char lowercase hex id or pubkey. Uppercase or short values are not ids. */
export function isHex64(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

export interface Address {
  kind: number;
  pubkey: string;
  d: string;
}

/** Parses a NIP-01 coordinate (`kind:pubkey:d`); null when it is not one. */
export function parseAddress(value: unknown): Address | null {
  if (typeof value !== 'string') return null;
  const m = ADDRESS.exec(value);
  if (!m) return null;
  return { kind: Number(m[1]), pubkey: m[2] as string, d: m[3] as string };
}

export function isAddress(value: unknown): value is string {
  return parseAddress(value) !== null;
}

/** Values (index 1) of every tag named `name`, in order. Tags without a value are skipped. */
export function tagValues(tags: Tags, name: string): string[] {
  const out: string[] = [];
  for (const tag of tags) {
    if (tag[0] === name && typeof tag[1] === 'string') out.push(tag[1]);
  }
  return out;
}

/** The first tag named `name` (the whole tag), or undefined. */
export function firstTag(tags: Tags, name: string): string[] | undefined {
  return tags.find((tag) => tag[0] === name && typeof tag[1] === 'string');
}

/** Value of the first tag named `name`, or null. */
export function firstValue(tags: Tags, name: string): string | null {
  return firstTag(tags, name)?.[1] ?? null;
}

/** Value of the last tag named `name` that passes `valid`, or null. */
export function lastValid(tags: Tags, name: string, valid: (v: string) => boolean): string | null {
  const values = tagValues(tags, name);
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i] as string;
    if (valid(v)) return v;
  }
  return null;
}

/** Value of the first tag named `name` that passes `valid`, or null. */
export function firstValid(tags: Tags, name: string, valid: (v: string) => boolean): string | null {
  for (const v of tagValues(tags, name)) {
    if (valid(v)) return v;
  }
  return null;
}

/** Order-preserving dedupe. */
export function unique<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** A non-negative decimal integer string that fits a JS safe integer (kinds, timestamps). */
export function parseUnsignedInt(value: string | null | undefined): number | null {
  if (value == null || !/^[0-9]+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}
