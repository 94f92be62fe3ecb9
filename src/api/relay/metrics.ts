/** The relay endpoint's metrics, on the process's Prometheus registry. */
import type { Counter, Gauge, Histogram, MetricsRegistry } from '../../metrics/registry.js';

export interface RelayMetrics {
  connections: Gauge;
  connectionsTotal: Counter;
  subscriptions: Gauge;
  /** REQ and COUNT messages handled, by type. */
  requests: Counter;
  /** Seconds from a REQ to its EOSE. */
  reqSeconds: Histogram;
  /** Events sent, stored (before EOSE) or live. */
  eventsSent: Counter;
  /** Seconds from the commit's announcement to the EVENT being written to the socket. */
  fanoutSeconds: Histogram;
  /** Refusals and malformed input, by reason (bad_json, too_large, too_many_subscriptions, …). */
  refused: Counter;
}

export function relayMetrics(registry: MetricsRegistry): RelayMetrics {
  return {
    connections: registry.gauge('nostr_cache_relay_connections', 'Open WebSocket connections of the relay endpoint'),
    connectionsTotal: registry.counter('nostr_cache_relay_connections_total', 'WebSocket connections accepted by the relay endpoint'),
    subscriptions: registry.gauge('nostr_cache_relay_subscriptions', 'Open subscriptions of the relay endpoint'),
    requests: registry.counter('nostr_cache_relay_requests_total', 'Relay endpoint messages handled, by type'),
    reqSeconds: registry.histogram('nostr_cache_relay_req_seconds', 'Relay endpoint: REQ received to EOSE sent', [
      0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5,
    ]),
    eventsSent: registry.counter('nostr_cache_relay_events_sent_total', 'EVENT messages sent by the relay endpoint, stored or live'),
    fanoutSeconds: registry.histogram('nostr_cache_relay_fanout_seconds', 'Relay endpoint: commit announcement to live EVENT sent', [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
    ]),
    refused: registry.counter('nostr_cache_relay_refused_total', 'Relay endpoint input refused or malformed, by reason'),
  };
}
