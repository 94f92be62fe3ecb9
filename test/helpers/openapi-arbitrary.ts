/**
 * fast-check arbitraries generated from the app's OpenAPI 3.1 document: for each operation, requests
 * whose path, query and body follow the declared schemas most of the time and are hostile the rest
 * (U+0000, huge and tiny numbers, wrong types, year 0, deep nesting, oversized strings, ids of the
 * wrong length). Known ids (rows and events that exist) are mixed in so requests reach the store.
 */
import fc from 'fast-check';

export interface Operation {
  method: string;
  /** The path template, `/v1/threads/{id}/messages`. */
  path: string;
  pathParams: Array<{ name: string; schema: Schema }>;
  queryParams: Array<{ name: string; schema: Schema; required: boolean }>;
  body: Schema | null;
  secured: boolean;
}

export interface FuzzRequest {
  method: string;
  path: string;
  /** A JSON value, or a raw string sent as is (malformed JSON). */
  body?: { json: unknown } | { raw: string };
}

type Schema = Record<string, any>;

export function operationsOf(doc: any): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries<any>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const params: any[] = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required === true })),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
        secured: Array.isArray(op.security) && op.security.length > 0,
      });
    }
  }
  return out;
}

const HEX64 = fc.stringMatching(/^[0-9a-f]{64}$/);

/** Values that once broke something, or that sit on a column's edge. */
export const hostileStrings = [
  '', ' ', '\u0000', 'a\u0000b', '%00', '\\', '..', '../..', '%', '%%41', '😀', '\ud800', "'; DROP TABLE repos; --",
  'null', 'NaN', 'Infinity', '-0', '1e309', '0000-01-01', '0000-01-01T00:00:00Z', '275760-09-13', '9'.repeat(40),
  'note1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', 'npub1' + 'q'.repeat(20), 'eyJ9', 'W10', 'WyJ4Il0', 'a'.repeat(5000),
];
export const hostileNumbers = [3_000_000_000, -3_000_000_000, 2 ** 31, 2 ** 63, 1e20, 1e39, -1e39, 1e-50, 1e308, -1, 0, 0.5, Number.MAX_SAFE_INTEGER + 2];
const hostileJson = fc.constantFrom<unknown>(null, true, [], {}, [[[[[]]]]], { '\u0000': 1 }, ['\u0000'], { __proto__: { x: 1 } }, 'x'.repeat(70_000));

export const hostileString = fc.oneof(fc.constantFrom(...hostileStrings), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(hostileString, fc.constantFrom(...hostileNumbers), hostileJson);

function resolve(schema: Schema, doc: any): Schema {
  let s = schema;
  for (let i = 0; i < 5 && s?.$ref; i++) s = s.$ref.replace('#/', '').split('/').reduce((o: any, k: string) => o?.[k], doc) ?? {};
  return s ?? {};
}

/** Values following `schema`, with `known` strings (existing ids) for strings and uuids. */
export function fromSchema(schema: Schema, doc: any, known: string[], depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, doc);
  if (depth > 4) return fc.constant(null);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a: Schema) => fromSchema(a, doc, known, depth + 1)));
  if (s.enum) return fc.constantFrom(...s.enum);
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length === 0) return fc.jsonValue({ maxDepth: 3 });
  return fc.oneof(...types.map((t) => typed(t, s, doc, known, depth)));
}

function typed(type: string, s: Schema, doc: any, known: string[], depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1000, -(2 ** 31)), max: Math.min(s.maximum ?? 100_000, 2 ** 31 - 1) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'array': {
      const item = fromSchema(s.items ?? {}, doc, known, depth + 1);
      const min = s.minItems ?? 0;
      return fc.array(item, { minLength: min, maxLength: Math.max(min, Math.min(s.maxItems ?? 5, 5)) });
    }
    case 'object': {
      const props = Object.entries<Schema>(s.properties ?? {});
      const required = new Set<string>(s.required ?? []);
      if (props.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
      const shape = Object.fromEntries(props.map(([k, v]) => [k, fromSchema(v, doc, known, depth + 1)]));
      return fc.record(shape, { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)) });
    }
    default: {
      if (s.format === 'uuid' && known.length > 0) return fc.oneof(fc.constantFrom(...known), fc.uuid());
      if (s.format === 'uuid') return fc.uuid();
      if (s.format === 'date') return fc.date({ min: new Date(Date.UTC(1, 0, 1)), max: new Date(Date.UTC(9999, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(Date.UTC(2100, 0, 1)) }).map((d) => d.toISOString());
      const max = Math.min(s.maxLength ?? 40, 40);
      return fc.oneof(
        fc.string({ minLength: Math.min(s.minLength ?? 0, max), maxLength: max }),
        ...(known.length > 0 ? [fc.constantFrom(...known)] : []),
        HEX64,
      );
    }
  }
}

/** Mostly schema-shaped, sometimes hostile: one arbitrary per leaf decision keeps shrinking useful. */
function maybeHostile<T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: hostileValue });
}

/** Mutates a JSON value: replaces one nested value with a hostile one. */
function mutated(value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(value, hostileValue, fc.nat()).map(([v, bad, pick]) => {
    if (v === null || typeof v !== 'object') return bad;
    const copy = structuredClone(v) as Record<string, unknown>;
    const keys = Object.keys(copy);
    if (keys.length === 0) return bad;
    copy[keys[pick % keys.length]!] = bad;
    return copy;
  });
}

const encode = (v: unknown) => encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v));

export function requestArbitrary(op: Operation, doc: any, known: string[]): fc.Arbitrary<FuzzRequest> {
  const pathValues = fc.tuple(...op.pathParams.map((p) => maybeHostile(fromSchema(p.schema, doc, known))));
  const queryValues = fc.tuple(
    ...op.queryParams.map((p) =>
      fc.option(maybeHostile(fromSchema(p.schema, doc, known)), { nil: undefined, freq: p.required ? 0 : 2 }).map((v) => [p.name, v] as const),
    ),
  );
  const extraQuery = fc.option(fc.tuple(fc.constantFrom('x', 'cursor', 'limit', '__proto__', ''), hostileString), { freq: 4 });
  const body: fc.Arbitrary<FuzzRequest['body'] | undefined> = op.body
    ? fc.oneof(
        { weight: 4, arbitrary: fromSchema(op.body, doc, known).map((json) => ({ json })) },
        { weight: 3, arbitrary: mutated(fromSchema(op.body, doc, known)).map((json) => ({ json })) },
        { weight: 1, arbitrary: fc.constantFrom('{', '[]', '"x"', '{"a":' + '['.repeat(100), 'nul\u0000', '{"k": "\\u0000"}').map((raw) => ({ raw })) },
      )
    : fc.constant(undefined);
  return fc.tuple(pathValues, queryValues, extraQuery, body).map(([params, query, extra, payload]) => {
    let path = op.path;
    op.pathParams.forEach((p, i) => {
      path = path.replace(`{${p.name}}`, encode(params[i]));
    });
    const pairs = query.filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encode(v)}`);
    if (extra) pairs.push(`${encodeURIComponent(extra[0])}=${encode(extra[1])}`);
    const request: FuzzRequest = { method: op.method, path: pairs.length > 0 ? `${path}?${pairs.join('&')}` : path };
    if (payload) request.body = payload;
    return request;
  });
}
