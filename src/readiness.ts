import type { UpstreamRegistry } from './upstream/registry.js';

/** The readiness probe's view of the upstreams: ready when every one is; each one's state. */
export function upstreamReadiness(registry: UpstreamRegistry): { status: number; body: unknown } {
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
