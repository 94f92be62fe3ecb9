/**
 * The relay endpoint on the API's own HTTP server: WebSocket upgrades at `/` become NIP-01
 * connections (connection.ts); other paths' upgrades are refused. Connections per client address
 * are limited (an upgrade beyond is answered 429), messages beyond 4x the published limit close the
 * socket (ws' own cut), larger than the limit get a NOTICE. A client that stops reading is dropped
 * once its socket buffers more than MAX_BUFFERED_BYTES.
 */
import type { IncomingMessage, Server } from 'node:http';
import { addressBehindProxies } from '../auth.js';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Database } from '../../db/client.js';
import type { Logger } from '../../log.js';
import type { MetricsRegistry } from '../../metrics/registry.js';
import { RelayConnection } from './connection.js';
import type { RelayLimits } from '../../nostr/relay-limits.js';
import type { LiveEvents } from './live-events.js';
import { relayMetrics, type RelayMetrics } from './metrics.js';

const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface RelayEndpointDeps {
  database: Database;
  live: LiveEvents;
  limits: RelayLimits;
  metrics: MetricsRegistry;
  log: Logger;
  /** Reverse proxies in front (TRUST_PROXY hop count): the client address rule of api/auth.ts. */
  trustProxy?: number;
}

export interface RelayEndpoint {
  readonly connections: number;
  readonly metrics: RelayMetrics;
  close(): Promise<void>;
}

function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const forwarded = req.headers['x-forwarded-for'];
  return addressBehindProxies(req.socket.remoteAddress ?? 'unknown', Array.isArray(forwarded) ? forwarded.join(',') : forwarded, trustedHops);
}

function refuseUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachRelayEndpoint(server: Server, deps: RelayEndpointDeps): RelayEndpoint {
  const metrics = relayMetrics(deps.metrics);
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.limits.maxMessageBytes * 4 });
  const perAddress = new Map<string, number>();
  const open = new Set<WebSocket>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/') {
      metrics.refused.inc({ reason: 'upgrade_path' });
      return refuseUpgrade(socket, '404 Not Found');
    }
    const address = clientAddress(req, deps.trustProxy ?? 0);
    const count = perAddress.get(address) ?? 0;
    if (count >= deps.limits.maxConnectionsPerAddress) {
      metrics.refused.inc({ reason: 'too_many_connections' });
      return refuseUpgrade(socket, '429 Too Many Requests');
    }
    perAddress.set(address, count + 1);
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, address));
  };

  const accept = (ws: WebSocket, address: string) => {
    open.add(ws);
    metrics.connections.inc();
    metrics.connectionsTotal.inc();
    // Frames sent in one go (a REQ's answer: its events and EOSE) leave in one socket write: the
    // socket is corked at the first and uncorked on the next tick.
    const socket = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    let corked = false;
    const connection = new RelayConnection({ database: deps.database, live: deps.live, limits: deps.limits, metrics, log: deps.log }, (frame) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        metrics.refused.inc({ reason: 'slow_reader' });
        ws.terminate();
        return;
      }
      if (socket && !corked) {
        corked = true;
        socket.cork();
        process.nextTick(() => {
          corked = false;
          socket.uncork();
        });
      }
      ws.send(frame);
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        metrics.refused.inc({ reason: 'binary' });
        ws.send(JSON.stringify(['NOTICE', 'invalid: messages are JSON text']));
        return;
      }
      void connection.handle(data.toString());
    });
    ws.on('error', (error: Error & { code?: string }) => {
      metrics.refused.inc({ reason: error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame_too_large' : 'socket_error' });
    });
    ws.on('close', () => {
      open.delete(ws);
      connection.close();
      metrics.connections.dec();
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  };

  server.on('upgrade', onUpgrade);
  return {
    get connections() {
      return open.size;
    },
    metrics,
    async close() {
      server.off('upgrade', onUpgrade);
      for (const ws of open) ws.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
