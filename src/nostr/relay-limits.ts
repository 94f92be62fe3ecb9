/**
 * The relay endpoint's limits (api/relay/): published in NIP-11 `limitation` and enforced by the
 * connection. Anything beyond them is refused (CLOSED, NOTICE, or an HTTP 429 on upgrade) and
 * counted. Plain data, so configuration can hold them without importing the endpoint.
 */

export interface RelayLimits {
  /** Open subscriptions per connection (NIP-11 max_subscriptions). */
  maxSubscriptions: number;
  /** Filters per REQ or COUNT (NIP-11 max_filters). */
  maxFilters: number;
  /** Ceiling of a filter's `limit`, and the `limit` of a filter without one (NIP-11 max_limit, default_limit). */
  maxLimit: number;
  /** Largest incoming WebSocket message, bytes (NIP-11 max_message_length). */
  maxMessageBytes: number;
  /** Values in one filter, all fields together (ids + authors + kinds + tag values). */
  maxFilterValues: number;
  /** Length of a subscription id (NIP-11 max_subid_length). */
  maxSubscriptionIdLength: number;
  /** Open WebSocket connections per client address. */
  maxConnectionsPerAddress: number;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxSubscriptions: 100,
  maxFilters: 10,
  maxLimit: 500,
  maxMessageBytes: 131_072,
  maxFilterValues: 1_000,
  maxSubscriptionIdLength: 64,
  maxConnectionsPerAddress: 256,
};
