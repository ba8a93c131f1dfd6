import type { IncomingMessage, ServerResponse } from 'node:http';
import { reply } from '../mcp/http-reply.js';
import type { AdminCredential } from './admin-credential.js';

/** A probe's answer in full; `body.status` is the one field anyone may see. */
export interface StatusAnswer {
  status: number;
  body: { status: string } & Record<string, unknown>;
}

export interface StatusRoutes {
  /** Process is up: `{ status: 'ok', … }`. */
  health(): StatusAnswer;
  /** 503 until every upstream (and the audit store) is ready; the detail says which is not. */
  readiness(): StatusAnswer;
  /** The operator's secret; absent: no admin endpoint, and the probes never show detail. */
  admin?: AdminCredential;
  /** The Prometheus exposition; served at /metrics to the admin only. Absent: metrics are off. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

export const ADMIN_STATUS_PATH = '/admin/status';
export const METRICS_PATH = '/metrics';

/** The paths answered here; /admin/status and /metrics only exist when an admin token is configured. */
export function isStatusPath(path: string, routes: StatusRoutes): boolean {
  return (
    path === '/healthz' ||
    path === '/readyz' ||
    (path === ADMIN_STATUS_PATH && routes.admin !== undefined) ||
    (path === METRICS_PATH && routes.admin !== undefined && routes.metrics !== undefined)
  );
}

/**
 * The probes and the admin status, answered after the Host/Origin guard. Without the admin
 * token a probe says only `{"status": …}` (the HTTP status carries readiness), so neither a
 * stranger nor a DNS-rebinding page learns paths, chain ids, upstream names or their errors.
 * With it, the probe carries the detail; `/admin/status` always needs it and answers 200 with
 * health and readiness merged (the readiness verdict in `status`).
 */
export function answerStatus(path: string, req: IncomingMessage, res: ServerResponse, routes: StatusRoutes, log: (msg: string) => void): void {
  const answer = statusAnswer(path, req, routes, log);
  if (answer.status === 200 && path === METRICS_PATH && routes.metrics) {
    routes.metrics().then(
      (m) => {
        res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.body), 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : m.body);
      },
      (err: Error) => {
        log(`metrics: cannot collect: ${err.message}`);
        reply(res, 500, { error: 'internal_error', message: 'the metrics could not be collected' });
      },
    );
    return;
  }
  reply(res, answer.status, answer.body, answer.headers);
}

function statusAnswer(path: string, req: IncomingMessage, routes: StatusRoutes, log: (msg: string) => void): { status: number; body: unknown; headers: Record<string, string> } {
  const presented = routes.admin?.check(req.headers.authorization) ?? 'none';
  const adminOnly = path === ADMIN_STATUS_PATH || path === METRICS_PATH;
  if (presented === 'invalid' || (adminOnly && presented === 'none')) {
    const reason = presented === 'none' ? 'no admin token' : 'the admin token does not match';
    log(`admin: refused ${req.method} ${path} from ${req.socket.remoteAddress ?? 'unknown'}: ${reason}`);
    const challenge = presented === 'none' ? 'Bearer realm="toolgate-admin"' : 'Bearer realm="toolgate-admin", error="invalid_token"';
    return {
      status: 401,
      body: { error: 'unauthorized', message: `${path} needs the admin token (Authorization: Bearer …): ${reason}` },
      headers: { 'www-authenticate': challenge },
    };
  }
  const noStore = { 'cache-control': 'no-store' };
  if (adminOnly) {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return { status: 405, body: { error: 'method_not_allowed', message: `${path} answers GET` }, headers: { allow: 'GET, HEAD' } };
    if (path === METRICS_PATH) return { status: 200, body: undefined, headers: noStore };
    return { status: 200, body: { ...routes.health().body, ...routes.readiness().body }, headers: noStore };
  }
  const answer = path === '/healthz' ? routes.health() : routes.readiness();
  return { status: answer.status, body: presented === 'valid' ? answer.body : { status: answer.body.status }, headers: noStore };
}
