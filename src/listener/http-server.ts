import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenerLimits } from '../config/types.js';
import type { Logger } from '../log.js';
import { reply } from '../mcp/http-reply.js';
import { ErrorCode, errorResponse } from '../protocol/jsonrpc.js';
import { clientErrorHandler, isClientGone } from './client-errors.js';
import { ConnectionGate } from './connection-gate.js';
import type { OriginGuard } from './origin-guard.js';
import { answerStatus, isStatusPath, type StatusRoutes } from './status-routes.js';

/** `/healthz`, `/readyz` and `/admin/status` (status-routes.ts) come with the MCP endpoint. */
export interface ListenerRoutes extends StatusRoutes {
  path: string;
  mcp(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * Public documents by exact path (RFC 9728 protected-resource metadata, the development
   * issuer's JWKS): answered before the Host/Origin guard, GET only, as JSON.
   */
  documents?(path: string): unknown;
}

export interface ListenerOptions {
  limits: ListenerLimits;
  /** How the server is made; default plain HTTP (src/listener/tls.ts makes the HTTPS one). */
  makeServer?: (handler: RequestListener) => Server;
}

/** How often Node looks for requests past their deadline: a fraction of the shortest one. */
function checkingInterval(limits: ListenerLimits): number {
  return Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

/**
 * The front door: connection caps, header/request/keep-alive timeouts, DNS-rebinding checks,
 * routing to the MCP endpoint and the health probes, and a last-resort 500 so that no handler
 * error ever crashes the process or hangs a client.
 */
export function createListener(routes: ListenerRoutes, guard: OriginGuard, logger: Logger, options: ListenerOptions): Server {
  const { limits, makeServer = (handler) => createServer(handler) } = options;
  const gate = new ConnectionGate(limits, logger);
  const server = makeServer((req, res) => {
    // A connection turned away at the gate may still get a request parsed: serve none of it
    // (the gate closes the connection once its refusal is out).
    if (gate.refused.has(req.socket)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const document = req.method === 'GET' || req.method === 'HEAD' ? routes.documents?.(path) : undefined;
    if (document !== undefined) {
      return reply(res, 200, document, { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
    }
    const status = isStatusPath(path, routes);
    if (path !== routes.path && !status) {
      return reply(res, 404, { error: 'not_found', message: `nothing at ${path}; the MCP endpoint is ${routes.path}` });
    }
    // The probes and the admin status sit behind the same guard as the MCP endpoint.
    const refused = guard.check(req);
    if (refused) {
      return reply(res, 403, errorResponse(null, ErrorCode.InvalidRequest, `Forbidden: ${refused}`));
    }
    if (status) return answerStatus(path, req, res, routes, (m) => logger.log('warn', m));
    routes.mcp(req, res).catch((err: unknown) => {
      if (isClientGone(err) || req.destroyed) {
        // The client aborted (closed or reset mid-request): nothing to answer, nothing to debug.
        logger.log('info', `client ${req.socket.remoteAddress ?? 'unknown'} aborted ${req.method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.writableEnded) res.destroy();
        return;
      }
      logger.log('error', `request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) reply(res, 500, errorResponse(null, ErrorCode.InternalError, 'Internal error'));
      else res.end();
    });
  });
  gate.attach(server);
  server.on('clientError', clientErrorHandler(logger));
  // Node answers a request past max_requests_per_socket (pipelined after the last one) 503 itself.
  server.on('dropRequest', (req: IncomingMessage) => {
    logger.log('warn', `refused request from ${req.socket.remoteAddress ?? 'unknown'}: 503 over listener.limits.max_requests_per_socket (${limits.maxRequestsPerSocket})`);
  });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  // Read by Node when the server starts listening (the default, 30 s, would let a 1 s deadline run 30 s).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = checkingInterval(limits);
  return server;
}

export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
