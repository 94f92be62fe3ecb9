/**
 * NIP-57 zap receipts (kind 9735). A receipt is signed by the recipient's LNURL server, not by the
 * sender, so nothing in it is taken on trust: the sender comes from the signed kind-9734 request in
 * `description`, and the receipt is graded (`validity`) rather than dropped.
 */
import type { NormalizeOptions, NostrEvent, ZapFields } from '../types.js';
import { parseBolt11Amount } from './bolt11.js';
import { firstValid, firstValue, isAddress, isHex64, tagValues } from './tags.js';

const SIG = /^[0-9a-f]{128}$/;

function isStringTags(value: unknown): value is string[][] {
  return (
    Array.isArray(value) &&
    value.every((tag) => Array.isArray(tag) && tag.every((part) => typeof part === 'string'))
  );
}

/**
 * The event embedded in a receipt's `description`, when it is JSON with the shape of a NIP-01
 * event (hex fields, integer kind/created_at, string tags). Only the seven NIP-01 fields are kept.
 * Its signature is not checked here.
 */
export function parseEmbeddedEvent(json: string): NostrEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const o = raw as Record<string, unknown>;
  if (!isHex64(o['id']) || !isHex64(o['pubkey'])) return null;
  if (typeof o['sig'] !== 'string' || !SIG.test(o['sig'])) return null;
  if (!Number.isSafeInteger(o['created_at']) || !Number.isSafeInteger(o['kind'])) return null;
  if (typeof o['content'] !== 'string' || !isStringTags(o['tags'])) return null;
  return {
    id: o['id'],
    pubkey: o['pubkey'],
    created_at: o['created_at'] as number,
    kind: o['kind'] as number,
    tags: o['tags'],
    content: o['content'],
    sig: o['sig'],
  };
}

/**
 * A zap request is valid for a receipt when it is a signed kind 9734 with exactly one `p`, equal to
 * the receipt's recipient, and at most one `e` (NIP-57 appendix D).
 */
export function isValidZapRequest(
  request: NostrEvent,
  recipient: string | null,
  verifyEmbedded: NormalizeOptions['verifyEmbedded'],
): boolean {
  if (request.kind !== 9734 || recipient === null) return false;
  const ps = tagValues(request.tags, 'p');
  if (ps.length !== 1 || ps[0] !== recipient) return false;
  if (tagValues(request.tags, 'e').length > 1) return false;
  return verifyEmbedded(request);
}

/** The request's `amount` tag (msat): absent, a whole number, or present but malformed. */
type RequestAmount = { kind: 'none' } | { kind: 'msat'; msat: bigint } | { kind: 'malformed' };

function requestAmount(request: NostrEvent): RequestAmount {
  const value = firstValue(request.tags, 'amount');
  if (value === null) return { kind: 'none' };
  return /^[0-9]+$/.test(value) ? { kind: 'msat', msat: BigInt(value) } : { kind: 'malformed' };
}

/**
 * Normalises a receipt. Amount: the invoice's human-readable part; when the invoice names none (or
 * is missing), the valid request's `amount` tag, flagged `amount_from_request`. An invoice with an
 * unreadable amount yields null and, if the request names an amount, a mismatch.
 */
export function parseZapReceipt(receipt: NostrEvent, options: Pick<NormalizeOptions, 'verifyEmbedded'>): ZapFields {
  const { tags } = receipt;
  const bolt11 = firstValue(tags, 'bolt11');
  const recipient = firstValid(tags, 'p', isHex64);
  const senderTag = firstValid(tags, 'P', isHex64);

  const description = firstValue(tags, 'description');
  const parsed = description === null ? null : parseEmbeddedEvent(description);
  const request =
    parsed !== null && isValidZapRequest(parsed, recipient, options.verifyEmbedded) ? parsed : null;

  const invoice = bolt11 === null ? ({ valid: true, msat: null } as const) : parseBolt11Amount(bolt11);
  const invoiceMsat = invoice.valid ? invoice.msat : null;
  const asked: RequestAmount = request ? requestAmount(request) : { kind: 'none' };

  let amountMsat = invoiceMsat;
  let fromRequest = false;
  let amountMatches: boolean | null = null;
  if (request !== null && asked.kind !== 'none') {
    if (!invoice.valid || asked.kind === 'malformed') amountMatches = false;
    else if (invoiceMsat === null) {
      // No amount in the invoice: nothing to compare, take the request's word and flag it.
      amountMsat = asked.msat;
      fromRequest = true;
    } else amountMatches = invoiceMsat === asked.msat;
  }

  const senderTagMatches = request !== null && senderTag !== null ? senderTag === request.pubkey : null;

  let validity: ZapFields['validity'] = 0;
  if (request !== null) {
    if (amountMatches === false) validity = 1;
    else validity = senderTagMatches === false ? 2 : 3;
  }

  return {
    bolt11,
    amount_msat: amountMsat,
    amount_from_request: fromRequest,
    sender: request?.pubkey ?? senderTag,
    sender_verified: request !== null,
    recipient,
    // The receipt must copy the request's `e`/`a`; fall back to a valid request if it did not.
    target_event: firstValid(tags, 'e', isHex64) ?? (request ? firstValid(request.tags, 'e', isHex64) : null),
    target_address: firstValid(tags, 'a', isAddress) ?? (request ? firstValid(request.tags, 'a', isAddress) : null),
    request_id: request?.id ?? null,
    request_valid: request !== null,
    amount_matches: amountMatches,
    sender_tag_matches: senderTagMatches,
    validity,
    comment: request !== null && request.content !== '' ? request.content : null,
  };
}
