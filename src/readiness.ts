import type { ChainedAuditLog } from './audit/chained-log.js';
import { withAuditReadiness } from './audit/gateway-audit.js';
import type { StatusAnswer } from './listener/status-routes.js';
import type { PolicyRuntime } from './policy/runtime.js';
import type { UpstreamRegistry } from './upstream/registry.js';

/** The readiness probe's view of the upstreams: ready when every one is; each one's state. */
export function upstreamReadiness(registry: UpstreamRegistry): { status: number; body: { status: string } & Record<string, unknown> } {
  const upstreams: Record<string, unknown> = {};
  let ready = true;
  for (const c of registry.clients.values()) {
    if (c.state !== 'ready') ready = false;
    upstreams[c.id] = {
      state: c.state,
      protocolVersion: c.state === 'ready' ? c.protocolVersion : undefined,
      era: c.state === 'ready' ? c.era : undefined,
      restarts: c.restarts,
      ...(c.lastError ? { lastError: c.lastError } : {}),
    };
  }
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'degraded', upstreams } };
}

/**
 * Readiness in full: the upstreams, the audit store (not ready while records cannot be written,
 * unless fail_open) and the policy in force with its shadow disagreements. Only the admin sees
 * the detail; everyone else gets `status` (see src/listener/status-routes.ts).
 */
export function gatewayReadiness(registry: UpstreamRegistry, auditLog: ChainedAuditLog | undefined, policy: PolicyRuntime | undefined): StatusAnswer {
  const r = withAuditReadiness(upstreamReadiness(registry), auditLog) as StatusAnswer;
  return policy ? { ...r, body: { ...r.body, policy: policy.status() } } : r;
}
