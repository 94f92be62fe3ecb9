import { verifyEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { isValidZapRequest, parseEmbeddedEvent, parseZapReceipt } from '../../src/nostr/normalize/nip57-zap.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { corpusEvent, corpusOfKind } from '../fixtures/corpus.js';
import { pubkeys, sign, T0, world } from '../fixtures/hand-built.js';

/** Fresh copy so nostr-tools' cached "verified" mark never leaks between cases. */
const verifyEmbedded = (e: NostrEvent) => verifyEvent({ ...e });
const opts = { verifyEmbedded };

describe('real zap receipts: hand-computed amounts and senders', () => {
  it.each([
    // lnbc420n -> 420 * 100 = 42,000 msat (42 sats); request amount "42000" agrees; P = request pubkey
    ['745622c00fa3c82c9db99ba2727d6de74c83a4349eca2f10a8b96f673b4aa87a', 42_000n, 'dab48785a2944728fc594c5a24e22fe1552cfa56603b6542f0e20d97ba3da059', 3],
    // lnbc4200n -> 4,200 * 100 = 420,000 msat (420 sats); request amount "420000"
    ['3f836ef7b8b5cf249289e5a4ba3e26a264c8dd73611fa931f8009fa9b97e278a', 420_000n, 'dab48785a2944728fc594c5a24e22fe1552cfa56603b6542f0e20d97ba3da059', 3],
    // lnbc400n -> 400 * 100 = 40,000 msat; request names no amount, no P tag
    ['ca70a265270552c397bbdd66f7b83b4a3e4189c56331b6ad7f5344f4493f8a91', 40_000n, '18905d0a5d623ab81a98ba98c582bd5f57f2506c6b808905fc599d5a0b229b08', 3],
    // lnbc10n -> 10 * 100 = 1,000 msat (1 sat); request amount "1000"
    ['1992dbebabf69264ab0dbbb7a5d07ab79952e72ffc8c7b4ae55f3ea570ed0f10', 1_000n, '97f848adcc4c6276685fe48426de5614887c8a51ada0468cec71fba938272911', 3],
    // lnbc210n -> 210 * 100 = 21,000 msat (21 sats); request amount "21000"
    ['c108c2e6f276a68f7b1e4cdd9e5d3041dd28a308337163d21f7d470b4a466e60', 21_000n, 'f7e84b92a5457546894daedaff9abd66f3d289f92435d6ac068a33cb170b01a4', 3],
    // lnbc70n -> 70 * 100 = 7,000 msat (7 sats); request amount "7000"
    ['9a0ae87f7056742ca0554501c4f9b2a32f1d3ae73343374422ddc984182c0a9d', 7_000n, '6947b555846de5b4646b390b0092c9537b601667f93d805144ebe88bb450c73c', 3],
    // lnbc20n -> 20 * 100 = 2,000 msat (2 sats); a self-zap: sender = recipient = P
    ['7f0f521a0c825e128223856431264a4a409b825273b23a5bfb5bdf731fc03461', 2_000n, 'b83a28b7e4e5d20bd960c5faeb6625f95529166b8bdb045d42634a2f35919450', 3],
  ] as const)('%s', (id, msat, sender, validity) => {
    const z = parseZapReceipt(corpusEvent(id), opts);
    expect(z.amount_msat).toBe(msat);
    expect(z.amount_from_request).toBe(false);
    expect(z.sender).toBe(sender);
    expect(z.sender_verified).toBe(true);
    expect(z.request_valid).toBe(true);
    expect(z.validity).toBe(validity);
  });

  it('all 17 receipts are fully valid, with recipient = p and target = e', () => {
    for (const r of corpusOfKind(9735)) {
      const z = parseZapReceipt(r, opts);
      expect(z.validity, r.id).toBe(3);
      expect(z.recipient).toBe(r.tags.find((t) => t[0] === 'p')?.[1]);
      expect(z.target_event).toBe(r.tags.find((t) => t[0] === 'e')?.[1]);
      const req = JSON.parse(r.tags.find((t) => t[0] === 'description')?.[1] as string) as NostrEvent;
      expect(z.request_id).toBe(req.id);
      expect(z.sender).toBe(req.pubkey);
    }
  });

  it('amount_matches is null when the request names no amount, true when it agrees', () => {
    expect(parseZapReceipt(corpusEvent('ca70a265270552c397bbdd66f7b83b4a3e4189c56331b6ad7f5344f4493f8a91'), opts).amount_matches).toBeNull();
    expect(parseZapReceipt(corpusEvent('745622c00fa3c82c9db99ba2727d6de74c83a4349eca2f10a8b96f673b4aa87a'), opts).amount_matches).toBe(true);
  });

  it('P tag: matches -> true, absent -> null', () => {
    expect(parseZapReceipt(corpusEvent('745622c00fa3c82c9db99ba2727d6de74c83a4349eca2f10a8b96f673b4aa87a'), opts).sender_tag_matches).toBe(true);
    expect(parseZapReceipt(corpusEvent('ca70a265270552c397bbdd66f7b83b4a3e4189c56331b6ad7f5344f4493f8a91'), opts).sender_tag_matches).toBeNull();
  });

  it('comment = request content; empty content -> null', () => {
    expect(parseZapReceipt(corpusEvent('745622c00fa3c82c9db99ba2727d6de74c83a4349eca2f10a8b96f673b4aa87a'), opts).comment).toBe('HUMANS ROCK');
    expect(parseZapReceipt(corpusEvent('ca70a265270552c397bbdd66f7b83b4a3e4189c56331b6ad7f5344f4493f8a91'), opts).comment).toBeNull();
  });

  it('a verifier that rejects the embedded request downgrades to 0 and falls back to the P hint', () => {
    const z = parseZapReceipt(corpusEvent('745622c00fa3c82c9db99ba2727d6de74c83a4349eca2f10a8b96f673b4aa87a'), { verifyEmbedded: () => false });
    expect(z).toMatchObject({
      validity: 0,
      request_valid: false,
      sender_verified: false,
      sender: 'dab48785a2944728fc594c5a24e22fe1552cfa56603b6542f0e20d97ba3da059',
      request_id: null,
      amount_matches: null,
      sender_tag_matches: null,
      comment: null,
      amount_msat: 42_000n,
    });
  });
});

describe('hand-built zap receipts', () => {
  it('lnbc10u (10 * 100,000 = 1,000,000 msat) with matching request and P: validity 3', () => {
    expect(parseZapReceipt(world.zaps.receipt, opts)).toMatchObject({
      amount_msat: 1_000_000n,
      amount_from_request: false,
      sender: pubkeys.zapper,
      sender_verified: true,
      recipient: pubkeys.agent,
      target_event: world.posts.aiTopLevel.id,
      request_id: world.zaps.request.id,
      request_valid: true,
      amount_matches: true,
      sender_tag_matches: true,
      validity: 3,
      comment: 'Great post, agent',
    });
  });
  it('invoice 2,000,000 msat vs request 5,000,000: validity 1, invoice amount kept', () => {
    expect(parseZapReceipt(world.zaps.amountMismatch, opts)).toMatchObject({ amount_msat: 2_000_000n, amount_matches: false, validity: 1 });
  });
  it('tampered request: validity 0, sender = P hint (unverified)', () => {
    expect(parseZapReceipt(world.zaps.forged, opts)).toMatchObject({
      validity: 0,
      request_valid: false,
      sender: pubkeys.zapper,
      sender_verified: false,
      request_id: null,
    });
  });
});

/** Builds a receipt around a request, with overridable parts. */
function receipt(opts2: { request?: NostrEvent | string; bolt11?: string | null; p?: string; P?: string | null }): NostrEvent {
  const request = opts2.request ?? world.zaps.request;
  const tags: string[][] = [['p', opts2.p ?? pubkeys.agent]];
  if (opts2.P !== null) tags.push(['P', opts2.P ?? pubkeys.zapper]);
  if (opts2.bolt11 !== null) tags.push(['bolt11', opts2.bolt11 ?? 'lnbc10u1pqqqqqqqqqq']);
  tags.push(['description', typeof request === 'string' ? request : JSON.stringify(request)]);
  return sign('lnurl', { kind: 9735, created_at: T0 + 2000, tags });
}
function request(tags: string[][], content = ''): NostrEvent {
  return sign('zapper', { kind: 9734, created_at: T0 + 1999, tags, content });
}

describe('zap request validity', () => {
  it('P differs from the request pubkey: validity 2', () => {
    const z = parseZapReceipt(receipt({ P: pubkeys.stranger }), opts);
    expect(z).toMatchObject({ sender: pubkeys.zapper, sender_tag_matches: false, validity: 2 });
  });
  it('no P tag: validity 3 (P "if any")', () => {
    expect(parseZapReceipt(receipt({ P: null }), opts)).toMatchObject({ sender_tag_matches: null, validity: 3 });
  });
  it('receipt p differs from the request p: invalid request', () => {
    expect(parseZapReceipt(receipt({ p: pubkeys.bob }), opts)).toMatchObject({ request_valid: false, validity: 0, recipient: pubkeys.bob });
  });
  it('request with two p tags: invalid', () => {
    const r = request([['p', pubkeys.agent], ['p', pubkeys.bob], ['amount', '1000000']]);
    expect(parseZapReceipt(receipt({ request: r }), opts).request_valid).toBe(false);
  });
  it('request with no p tag: invalid', () => {
    expect(parseZapReceipt(receipt({ request: request([['amount', '1000000']]) }), opts).request_valid).toBe(false);
  });
  it('request with two e tags: invalid (NIP-57 appendix D: 0 or 1 e)', () => {
    const r = request([['p', pubkeys.agent], ['e', '1'.repeat(64)], ['e', '2'.repeat(64)]]);
    expect(parseZapReceipt(receipt({ request: r }), opts).request_valid).toBe(false);
  });
  it('embedded event of another kind: invalid', () => {
    const r = sign('zapper', { kind: 1, created_at: T0, tags: [['p', pubkeys.agent]] });
    expect(parseZapReceipt(receipt({ request: r }), opts).request_valid).toBe(false);
  });
  it.each([
    ['not JSON', '{"kind":9734'],
    ['JSON array', '[]'],
    ['JSON null', 'null'],
    ['missing sig', JSON.stringify({ ...world.zaps.request, sig: undefined })],
    ['uppercase id', JSON.stringify({ ...world.zaps.request, id: world.zaps.request.id.toUpperCase() })],
    ['string kind', JSON.stringify({ ...world.zaps.request, kind: '9734' })],
    ['non-string tag', JSON.stringify({ ...world.zaps.request, tags: [['p', 5]] })],
    ['float created_at', JSON.stringify({ ...world.zaps.request, created_at: 1.5 })],
  ])('description %s: validity 0, sender from P', (_why, description) => {
    const z = parseZapReceipt(receipt({ request: description }), opts);
    expect(z).toMatchObject({ request_valid: false, validity: 0, sender: pubkeys.zapper, sender_verified: false });
  });
  it('no description and no P: sender null', () => {
    const r = sign('lnurl', { kind: 9735, created_at: T0, tags: [['p', pubkeys.agent], ['bolt11', 'lnbc10u1pqqqqqqqqqq']] });
    expect(parseZapReceipt(r, opts)).toMatchObject({ sender: null, validity: 0, amount_msat: 1_000_000n });
  });
  it('an invalid P hint is not a sender', () => {
    expect(parseZapReceipt(receipt({ request: 'x', P: 'XYZ' }), opts).sender).toBeNull();
  });
  it('parseEmbeddedEvent keeps only the seven NIP-01 fields', () => {
    const e = parseEmbeddedEvent(JSON.stringify({ ...world.zaps.request, extra: 1 }));
    expect(e && Object.keys(e).sort()).toEqual(['content', 'created_at', 'id', 'kind', 'pubkey', 'sig', 'tags']);
  });
  it('isValidZapRequest needs a recipient', () => {
    expect(isValidZapRequest(world.zaps.request, null, verifyEmbedded)).toBe(false);
    expect(isValidZapRequest(world.zaps.request, pubkeys.agent, verifyEmbedded)).toBe(true);
  });
});

describe('zap amounts', () => {
  it('no amount in the invoice: the request amount tag, flagged', () => {
    const z = parseZapReceipt(receipt({ bolt11: 'lnbc1pqqqqqqqqqq' }), opts);
    expect(z).toMatchObject({ amount_msat: 1_000_000n, amount_from_request: true, amount_matches: null, validity: 3 });
  });
  it('no bolt11 tag at all: the request amount tag, flagged', () => {
    const z = parseZapReceipt(receipt({ bolt11: null }), opts);
    expect(z).toMatchObject({ bolt11: null, amount_msat: 1_000_000n, amount_from_request: true });
  });
  it('no amount anywhere: null', () => {
    const r = request([['p', pubkeys.agent]]);
    expect(parseZapReceipt(receipt({ request: r, bolt11: 'lnbc1pqqqqqqqqqq' }), opts)).toMatchObject({
      amount_msat: null,
      amount_from_request: false,
      amount_matches: null,
      validity: 3,
    });
  });
  it('an unreadable invoice amount against a named request amount: mismatch (validity 1)', () => {
    expect(parseZapReceipt(receipt({ bolt11: 'lnbc1p1pqqqqqqqqqq' }), opts)).toMatchObject({ amount_msat: null, amount_matches: false, validity: 1 });
  });
  it('an unreadable invoice and no request amount: null amount, not a mismatch', () => {
    const r = request([['p', pubkeys.agent]]);
    expect(parseZapReceipt(receipt({ request: r, bolt11: 'garbage' }), opts)).toMatchObject({ amount_msat: null, amount_matches: null, validity: 3 });
  });
  it('a malformed request amount counts as a mismatch', () => {
    const r = request([['p', pubkeys.agent], ['amount', '1e6']]);
    expect(parseZapReceipt(receipt({ request: r }), opts)).toMatchObject({ amount_msat: 1_000_000n, amount_matches: false, validity: 1 });
  });
  it('the request amount of an INVALID request is not used', () => {
    const z = parseZapReceipt(receipt({ bolt11: 'lnbc1pqqqqqqqqqq', p: pubkeys.bob }), opts);
    expect(z).toMatchObject({ amount_msat: null, amount_from_request: false, validity: 0 });
  });
  it('amounts are exact beyond 2^53 msat', () => {
    const r = request([['p', pubkeys.agent], ['amount', '2100000000000000000']]);
    expect(parseZapReceipt(receipt({ request: r, bolt11: 'lnbc210000001pqqqqqqqqqq' }), opts)).toMatchObject({
      amount_msat: 2_100_000_000_000_000_000n, // 21,000,000 BTC * 1e11 msat
      amount_matches: true,
    });
  });
  it('target falls back to the valid request e/a when the receipt omits them', () => {
    const a = `30023:${pubkeys.alice}:draft`;
    const r = request([['p', pubkeys.agent], ['e', world.posts.aiTopLevel.id], ['a', a]]);
    expect(parseZapReceipt(receipt({ request: r }), opts)).toMatchObject({ target_event: world.posts.aiTopLevel.id, target_address: a });
  });
});
