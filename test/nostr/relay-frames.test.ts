import { describe, expect, it } from 'vitest';
import {
  FRAME_INVALID_REASONS,
  isValidSubscriptionId,
  messagePrefix,
  parseRelayFrame,
  peekEventFrame as peek,
  peekEventSig,
  serializeAuth,
  serializeClose,
  serializeCount,
  serializeNegClose,
  serializeNegMsg,
  serializeNegOpen,
  serializeReq,
  type FrameInvalidReason,
} from '../../src/nostr/relay-frames.js';
import type { NostrEvent } from '../../src/nostr/types.js';

const MAX = 4096;
const parse = (value: unknown) => parseRelayFrame(typeof value === 'string' ? value : JSON.stringify(value), MAX);

const event = { id: 'a'.repeat(64), pubkey: 'b'.repeat(64), kind: 1, created_at: 1, tags: [], content: 'x', sig: 'c'.repeat(128) };

describe('parseRelayFrame: valid frames', () => {
  it('EVENT', () => {
    expect(parse(['EVENT', 'sub1', event])).toEqual({ type: 'EVENT', subscriptionId: 'sub1', event });
  });
  it('EVENT passes the event through unchecked (the pipeline checks its fields)', () => {
    expect(parse(['EVENT', 's', { id: 5 }])).toEqual({ type: 'EVENT', subscriptionId: 's', event: { id: 5 } });
  });
  it('EOSE', () => {
    expect(parse(['EOSE', 'sub1'])).toEqual({ type: 'EOSE', subscriptionId: 'sub1' });
  });
  it('CLOSED with machine-readable prefixes', () => {
    for (const prefix of ['auth-required', 'rate-limited', 'restricted', 'error', 'invalid', 'blocked', 'duplicate', 'pow', 'unsupported']) {
      expect(parse(['CLOSED', 's', `${prefix}: because`])).toEqual({
        type: 'CLOSED',
        subscriptionId: 's',
        reason: `${prefix}: because`,
        prefix,
      });
    }
  });
  it('CLOSED without a prefix, with an empty message, or without one', () => {
    expect(parse(['CLOSED', 's', 'no prefix here'])).toMatchObject({ type: 'CLOSED', prefix: null });
    expect(parse(['CLOSED', 's', ''])).toMatchObject({ type: 'CLOSED', reason: '', prefix: null });
    expect(parse(['CLOSED', 's'])).toMatchObject({ type: 'CLOSED', reason: '', prefix: null });
  });
  it('prefix is lowercased and must be a word before the colon', () => {
    expect(messagePrefix('Rate-Limited: slow')).toBe('rate-limited');
    expect(messagePrefix('https://x: y')).toBe('https');
    expect(messagePrefix(' error: leading space')).toBeNull();
    expect(messagePrefix('two words: no')).toBeNull();
  });
  it('NOTICE', () => {
    expect(parse(['NOTICE', 'hello'])).toEqual({ type: 'NOTICE', message: 'hello' });
  });
  it('OK with and without a message', () => {
    expect(parse(['OK', event.id, true, ''])).toEqual({ type: 'OK', eventId: event.id, accepted: true, message: '', prefix: null });
    expect(parse(['OK', event.id, false, 'blocked: no'])).toEqual({
      type: 'OK',
      eventId: event.id,
      accepted: false,
      message: 'blocked: no',
      prefix: 'blocked',
    });
    expect(parse(['OK', event.id, true])).toMatchObject({ type: 'OK', message: '' });
  });
  it('AUTH', () => {
    expect(parse(['AUTH', 'challenge-1'])).toEqual({ type: 'AUTH', challenge: 'challenge-1' });
  });
  it('COUNT', () => {
    expect(parse(['COUNT', 'q', { count: 42 }])).toEqual({ type: 'COUNT', subscriptionId: 'q', count: 42, approximate: false });
    expect(parse(['COUNT', 'q', { count: 7, approximate: true }])).toMatchObject({ approximate: true });
  });
  it('NEG-MSG and NEG-ERR are passed through', () => {
    expect(parse(['NEG-MSG', 'n', '6100'])).toEqual({ type: 'NEG-MSG', subscriptionId: 'n', payload: '6100' });
    expect(parse(['NEG-ERR', 'n', 'blocked: too big'])).toEqual({ type: 'NEG-ERR', subscriptionId: 'n', payload: 'blocked: too big' });
  });
});

describe('parseRelayFrame: every invalid reason', () => {
  const cases: Record<FrameInvalidReason, unknown[]> = {
    frame_too_large: [JSON.stringify(['NOTICE', 'x'.repeat(MAX)]), JSON.stringify(['NOTICE', 'é'.repeat(MAX / 2)])],
    bad_json: ['', '[', '{"a":', 'EVENT', '["EVENT",]', 'nul'],
    not_array: [{}, 1, '"x"', null, true],
    empty_array: [[]],
    bad_type: [[1], [null, 'x'], [['EVENT'], 's', {}]],
    unknown_type: [['PING'], ['event', 's', {}], ['REQ', 's', {}], ['']],
    bad_event_frame: [['EVENT'], ['EVENT', 's'], ['EVENT', 1, event], ['EVENT', 's', 'str'], ['EVENT', 's', null], ['EVENT', 's', [1]], ['EVENT', 's', event, 'extra']],
    bad_eose_frame: [['EOSE'], ['EOSE', 1], ['EOSE', 's', 'x']],
    bad_closed_frame: [['CLOSED'], ['CLOSED', 1, 'x'], ['CLOSED', 's', 5], ['CLOSED', 's', 'x', 'y']],
    bad_notice_frame: [['NOTICE'], ['NOTICE', 5], ['NOTICE', 'a', 'b']],
    bad_ok_frame: [['OK'], ['OK', event.id], ['OK', 1, true, ''], ['OK', event.id, 'true', ''], ['OK', event.id, true, 5], ['OK', event.id, true, '', 'x']],
    bad_auth_frame: [['AUTH'], ['AUTH', ''], ['AUTH', 5], ['AUTH', 'a', 'b']],
    bad_count_frame: [['COUNT', 'q'], ['COUNT', 'q', 5], ['COUNT', 'q', {}], ['COUNT', 'q', { count: -1 }], ['COUNT', 'q', { count: 1.5 }], ['COUNT', 1, { count: 1 }]],
    bad_neg_frame: [
      ['NEG-MSG', 'n'],
      ['NEG-MSG', 'n', 5],
      ['NEG-ERR', 1, 'x'],
      ['NEG-MSG', 'n', 'a', 'b'],
      // a NEG-MSG payload is hex-encoded bytes
      ['NEG-MSG', 'n', ''],
      ['NEG-MSG', 'n', '616'],
      ['NEG-MSG', 'n', '61zz'],
    ],
  };

  it('covers the whole exported list', () => {
    expect(Object.keys(cases).sort()).toEqual([...FRAME_INVALID_REASONS].sort());
  });

  for (const [reason, inputs] of Object.entries(cases)) {
    it(reason, () => {
      for (const input of inputs) {
        expect(parse(input), JSON.stringify(input)).toEqual({ type: 'invalid', reason });
      }
    });
  }

  it('uses the caller-provided byte length before parsing', () => {
    expect(parseRelayFrame('["NOTICE","x"]', 10, 11)).toEqual({ type: 'invalid', reason: 'frame_too_large' });
    expect(parseRelayFrame('["NOTICE","x"]', 100, 14)).toEqual({ type: 'NOTICE', message: 'x' });
    // Garbage that fits is still parsed (and found bad); garbage that does not fit is never parsed.
    expect(parseRelayFrame('{{{{', 100, 4)).toEqual({ type: 'invalid', reason: 'bad_json' });
    expect(parseRelayFrame('{{{{', 3, 4)).toEqual({ type: 'invalid', reason: 'frame_too_large' });
  });

  it('counts UTF-8 bytes, not UTF-16 units, near the bound', () => {
    const text = JSON.stringify(['NOTICE', '€'.repeat(20)]); // 33 UTF-16 units, 73 bytes
    expect(parseRelayFrame(text, 73)).toMatchObject({ type: 'NOTICE' });
    expect(parseRelayFrame(text, 72)).toEqual({ type: 'invalid', reason: 'frame_too_large' });
  });
});

describe('serializers', () => {
  it('REQ spreads filters after the id', () => {
    expect(serializeReq('s', [{ kinds: [1], since: 10 }, { '#K': ['web'] }])).toBe('["REQ","s",{"kinds":[1],"since":10},{"#K":["web"]}]');
  });
  it('CLOSE, AUTH, COUNT', () => {
    expect(serializeClose('s')).toBe('["CLOSE","s"]');
    expect(JSON.parse(serializeAuth(event as NostrEvent))).toEqual(['AUTH', event]);
    expect(serializeCount('c', [{ kinds: [7] }])).toBe('["COUNT","c",{"kinds":[7]}]');
  });
  it('NEG-OPEN, NEG-MSG, NEG-CLOSE (NIP-77)', () => {
    expect(serializeNegOpen('n', { kinds: [1], since: 5 }, '6100')).toBe('["NEG-OPEN","n",{"kinds":[1],"since":5},"6100"]');
    expect(serializeNegMsg('n', '61')).toBe('["NEG-MSG","n","61"]');
    expect(serializeNegClose('n')).toBe('["NEG-CLOSE","n"]');
  });
  it('subscription ids are 1..64 chars', () => {
    expect(isValidSubscriptionId('')).toBe(false);
    expect(isValidSubscriptionId('a')).toBe(true);
    expect(isValidSubscriptionId('a'.repeat(64))).toBe(true);
    expect(isValidSubscriptionId('a'.repeat(65))).toBe(false);
  });
});

describe('peekEventFrame', () => {
  const peekEventFrame = (text: string) => peek(Buffer.from(text));
  const id = 'a'.repeat(64);
  it('reads subscription id, event id and created_at without parsing', () => {
    expect(peekEventFrame(`["EVENT","sub:1",{"id":"${id}","pubkey":"b","created_at":1700000000,"kind":1}]`)).toEqual({
      subscriptionId: 'sub:1',
      id,
      createdAt: 1700000000,
    });
    expect(peekEventFrame(`[ "EVENT" , "s" , {"kind":1,"created_at": 5 ,"id" : "${id}"}]`)).toEqual({ subscriptionId: 's', id, createdAt: 5 });
  });

  it('is not fooled by an id written inside a string', () => {
    const other = 'c'.repeat(64);
    const frame = JSON.stringify(['EVENT', 's', { content: `"id":"${other}"`, tags: [['x', `"id":"${other}"`]], id }]);
    expect(peekEventFrame(frame)?.id).toBe(id);
    expect(peekEventFrame(JSON.stringify(['EVENT', 's', { content: `"id":"${other}"` }]))).toBeNull();
  });

  it('reads bytes: multi-byte characters before the id, and "id" as a string value, change nothing', () => {
    const frame = JSON.stringify(['EVENT', 'süb', { content: 'ünïcödé 🌍 "id"', tags: [['id', 'x'], ['e', 'id']], created_at: 42, id }]);
    expect(peekEventFrame(frame)).toEqual({ subscriptionId: 'süb', id, createdAt: 42 });
  });

  it('leaves created_at null when it is not a plain integer of at most 15 digits', () => {
    expect(peekEventFrame(`["EVENT","s",{"created_at":1234567890123456,"id":"${id}"}]`)?.createdAt).toBeNull();
    expect(peekEventFrame(`["EVENT","s",{"created_at":-5,"id":"${id}"}]`)?.createdAt).toBeNull();
    expect(peekEventFrame(`["EVENT","s",{"created_at":1.5,"id":"${id}"}]`)?.createdAt).toBeNull();
  });

  it('gives up (null) on anything but a plain EVENT frame', () => {
    expect(peekEventFrame(`["EOSE","s"]`)).toBeNull();
    expect(peekEventFrame(`["EVENT","s\\"x",{"id":"${id}"}]`)).toBeNull(); // escaped subscription id
    expect(peekEventFrame(`["EVENT","s",{"id":"${id.toUpperCase()}"}]`)).toBeNull();
    expect(peekEventFrame(`["EVENT","s",{"id":"${id}"}]`)?.createdAt).toBeNull();
    expect(peekEventFrame('not json')).toBeNull();
    expect(peekEventFrame(`["EVENT","",{"id":"${id}"}]`)).toBeNull(); // empty subscription id
    expect(peekEventFrame(`["EVENT","s",{"id":"${id.slice(1)}"}]`)).toBeNull(); // 63 characters
    expect(peekEventFrame(`["EVENT","s",{"id":"${id}`)).toBeNull(); // cut before the closing quote
  });
});

describe('peekEventSig', () => {
  const sig = 'ab'.repeat(64);
  const frame = (text: string) => Buffer.from(text);
  it('reads the signature wherever it is in the event, as the bytes say', () => {
    expect(peekEventSig(frame(`["EVENT","s",{"id":"${'1'.repeat(64)}","sig":"${sig}"}]`))).toBe(sig);
    expect(peekEventSig(frame(`[ "EVENT" , "s" , { "sig" : "${sig}" , "id" : "x" } ]`))).toBe(sig);
  });
  it('is null for a signature not of 128 lowercase hex characters, or none', () => {
    expect(peekEventSig(frame(`["EVENT","s",{"sig":"${sig.toUpperCase()}"}]`))).toBeNull();
    expect(peekEventSig(frame(`["EVENT","s",{"sig":"${sig.slice(2)}"}]`))).toBeNull();
    expect(peekEventSig(frame(`["EVENT","s",{"sig":"${sig}0"}]`))).toBeNull();
    expect(peekEventSig(frame(`["EVENT","s",{"id":"x"}]`))).toBeNull();
    expect(peekEventSig(frame(`["EVENT","s",{"content":"\\"sig\\":\\"${sig}\\""}]`))).toBeNull(); // inside a string
  });
});
