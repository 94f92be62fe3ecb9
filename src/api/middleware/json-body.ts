/**
 * Request bodies, bounded before anything parses them: each route has a byte limit (BODY_LIMITS,
 * documented in docs/read-api.md and docs/control-plane.md), enforced on Content-Length at once and
 * on the stream as it arrives (a chunked body stops being read at the limit), then the JSON's nesting
 * depth is checked by a linear scan before JSON.parse, so neither a huge nor a deeply nested body can
 * hold the event loop. The parsed value is handed to the route's validator through Hono's body cache.
 */
import type { MiddlewareHandler } from 'hono';
import { errorBody } from '../errors.js';
import { findNul } from '../limits.js';

const KB = 1024;
/** Bodies of any route not listed below. */
export const DEFAULT_BODY_LIMIT = 64 * KB;
/** JSON nesting allowed (objects and arrays); the deepest schema needs 4. */
export const MAX_JSON_DEPTH = 32;

/** Per route (method and path pattern under the app root): the largest body accepted, in bytes. */
export const BODY_LIMITS: ReadonlyArray<{ method: string; path: RegExp; bytes: number; label: string }> = [
  { method: 'POST', path: /^\/v1\/profiles\/batch$/, bytes: 256 * KB, label: 'POST /v1/profiles/batch' },
  // Text fields of up to 1,000,000 characters (knowledge content, message content), JSON-escaped.
  { method: 'POST', path: /^\/v1\/knowledge$/, bytes: 8 * 1024 * KB, label: 'POST /v1/knowledge' },
  { method: 'PATCH', path: /^\/v1\/knowledge\/[^/]+$/, bytes: 8 * 1024 * KB, label: 'PATCH /v1/knowledge/{id}' },
  { method: 'POST', path: /^\/v1\/threads\/[^/]+\/messages$/, bytes: 8 * 1024 * KB, label: 'POST /v1/threads/{id}/messages' },
  { method: 'PATCH', path: /^\/v1\/messages\/[^/]+$/, bytes: 8 * 1024 * KB, label: 'PATCH /v1/messages/{id}' },
  // Up to 2,000 float4 numbers, plus a few fields.
  { method: 'PUT', path: /^\/v1\/messages\/[^/]+\/embedding$/, bytes: 128 * KB, label: 'PUT /v1/messages/{id}/embedding' },
  { method: 'POST', path: /^\/v1\/(messages|knowledge)\/search$/, bytes: 128 * KB, label: 'POST /v1/{messages,knowledge}/search' },
];

export function bodyLimitFor(method: string, path: string): number {
  return BODY_LIMITS.find((rule) => rule.method === method && rule.path.test(path))?.bytes ?? DEFAULT_BODY_LIMIT;
}

/** The deepest nesting of objects and arrays in a JSON text, counted outside strings; stops past `max`. */
export function jsonDepth(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > max) return deepest;
      }
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}

class TooLarge extends Error {}

/** Reads a body stream up to `limit` bytes; throws TooLarge past it (and stops reading). */
async function readBounded(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json(\s*;|$)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function jsonBody(): MiddlewareHandler {
  return async (c, next) => {
    const raw = c.req.raw;
    if (!raw.body) return next();
    const limit = bodyLimitFor(c.req.method, c.req.path);
    const tooLarge = () =>
      c.json(errorBody('payload_too_large', `request body over ${limit} bytes for ${c.req.method} ${c.req.path}`, { limit_bytes: limit }), 413);
    const declared = raw.headers.get('content-length');
    if (declared !== null && Number(declared) > limit) return tooLarge();
    let bytes: Uint8Array;
    try {
      bytes = await readBounded(raw.body, limit);
    } catch (error) {
      if (error instanceof TooLarge) return tooLarge();
      return c.json(errorBody('bad_request', 'the request body could not be read'), 400);
    }
    const type = raw.headers.get('content-type') ?? '';
    if (!JSON_TYPE.test(type)) {
      // Hono keeps promises in its body cache (its type says values).
      c.req.bodyCache.arrayBuffer = Promise.resolve(bytes.slice().buffer) as never;
      return next();
    }
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return c.json(errorBody('bad_request', 'invalid body: not UTF-8'), 400);
    }
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return c.json(errorBody('bad_request', `invalid body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, { max_depth: MAX_JSON_DEPTH }), 400);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return c.json(errorBody('bad_request', 'invalid body: malformed JSON'), 400);
    }
    const nul = findNul(value, 'json');
    if (nul) return c.json(errorBody('bad_request', `invalid ${nul}: U+0000 is not allowed`, { issues: [{ field: nul, message: 'U+0000 is not allowed' }] }), 400);
    c.req.bodyCache.json = Promise.resolve(value) as never;
    return next();
  };
}
