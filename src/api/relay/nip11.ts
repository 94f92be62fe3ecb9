/**
 * NIP-11 at the endpoint's URL: `GET /` with `Accept: application/nostr+json` answers the relay
 * information document; anything else at `/` passes on (the browser status page, the WebSocket
 * upgrade handled by server.ts).
 */
import type { MiddlewareHandler } from 'hono';
import type { RelayLimits } from '../../nostr/relay-limits.js';

export const SUPPORTED_NIPS = [1, 9, 11, 40, 45, 50];

export function relayInformation(limits: RelayLimits): Record<string, unknown> {
  return {
    name: 'nostr-cache',
    description: 'A read-only cache of Nostr events: never deleted or expired events, only the newest replaceable versions.',
    software: 'https://github.com/nostr-cache/nostr-cache',
    version: '0.1.0',
    supported_nips: SUPPORTED_NIPS,
    limitation: {
      max_message_length: limits.maxMessageBytes,
      max_subscriptions: limits.maxSubscriptions,
      max_filters: limits.maxFilters,
      max_limit: limits.maxLimit,
      default_limit: limits.maxLimit,
      max_subid_length: limits.maxSubscriptionIdLength,
      auth_required: false,
      payment_required: false,
      restricted_writes: true,
    },
  };
}

export function nip11Document(limits: RelayLimits): MiddlewareHandler {
  const body = JSON.stringify(relayInformation(limits));
  return async (c, next) => {
    if (c.req.method !== 'GET' || !(c.req.header('accept') ?? '').includes('application/nostr+json')) return next();
    return c.body(body, 200, { 'content-type': 'application/nostr+json', 'access-control-allow-origin': '*' });
  };
}
