import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reply } from '../mcp/http-reply.js';
import { ErrorCode, errorResponse } from '../protocol/jsonrpc.js';
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

/**
 * The front door: DNS-rebinding checks, routing to the MCP endpoint, the health probes and the admin status,
 * and a last-resort 500 so that no handler error ever crashes the process or hangs a client.
 */
export function createListener(
  routes: ListenerRoutes,
  guard: OriginGuard,
  log: (msg: string) => void,
  /** How the server is made; default plain HTTP (src/listener/tls.ts makes the HTTPS one). */
  makeServer: (handler: RequestListener) => Server = (handler) => createServer(handler),
): Server {
  const server = makeServer((req, res) => {
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
    if (status) return answerStatus(path, req, res, routes, log);
    routes.mcp(req, res).catch((err: unknown) => {
      log(`request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) reply(res, 500, errorResponse(null, ErrorCode.InternalError, 'Internal error'));
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
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
