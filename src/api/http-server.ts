/**
 * The HTTP server around the Hono app: errors raised below the app (a backslash in the path, headers
 * over Node's 16 KB, a request line that does not parse) answer in the one error shape; `listen`
 * resolves once the port is bound and rejects (EADDRINUSE, EACCES) instead of throwing later; `close`
 * stops accepting, closes idle keep-alive connections at once and, after a grace period, every
 * connection still open (a client that sent half a request and stalls cannot hold shutdown).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { errorBody } from './errors.js';

export interface HttpServer {
  readonly server: Server;
  /** Binds host:port; rejects with the socket error (code EADDRINUSE, EACCES, …) when it cannot. */
  listen(host: string, port: number): Promise<{ port: number }>;
  /** Stops accepting, ends idle connections now and all others after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

const jsonError = (status: number, code: string, message: string) =>
  new Response(JSON.stringify(errorBody(code, message)), { status, headers: { 'content-type': 'application/json' } });

/** A raw HTTP response for a socket the parser gave up on (no request object exists). */
function rawError(status: number, reason: string, code: string, message: string): string {
  const body = JSON.stringify(errorBody(code, message));
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

function onClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || (error.code === 'ECONNRESET')) {
    socket.destroy();
    return;
  }
  const reply =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? rawError(431, 'Request Header Fields Too Large', 'headers_too_large', 'request headers over 16 KB')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? rawError(408, 'Request Timeout', 'request_timeout', 'the request was not received in time')
        : rawError(400, 'Bad Request', 'bad_request', 'malformed HTTP request');
  socket.end(reply);
}

export function createHttpServer(fetch: (request: Request, env: unknown) => Response | Promise<Response>): HttpServer {
  const listener = getRequestListener(fetch as never, {
    // The node adapter's own refusals (a backslash in the path, a bad Host) become the error shape.
    errorHandler: (error) => jsonError(400, 'bad_request', `malformed request: ${(error as Error).message}`),
  });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => void listener(req, res));
  server.on('clientError', onClientError);

  return {
    server,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        const fail = (error: Error) => reject(error);
        server.once('error', fail);
        server.listen(port, host, () => {
          server.off('error', fail);
          const address = server.address();
          resolve({ port: typeof address === 'object' && address ? address.port : port });
        });
      });
    },
    close(graceMs) {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
