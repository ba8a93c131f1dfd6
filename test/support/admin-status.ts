/**
 * The operator's view of a running gateway: `/admin/status` with the admin token. The probes
 * (`/healthz`, `/readyz`) answer only `{"status": …}` to everyone else, so tests that read the
 * upstreams, the audit store or the policy in force configure this token and ask here.
 */
import assert from 'node:assert/strict';

export const ADMIN_TOKEN = 'test-admin-token-7b0c5f2e9d8a4c61b3e2f0a9d7c6b5e4';

/** The `admin:` section to put in a test config (a top-level key, so it can go anywhere between sections). */
export const ADMIN_YAML = `admin:\n  token: ${ADMIN_TOKEN}\n`;

/** GET /admin/status of the gateway whose MCP endpoint is `mcpUrl`; fails the test unless it answers 200. */
export async function adminStatus<T = Record<string, unknown>>(mcpUrl: string, token = ADMIN_TOKEN): Promise<T> {
  const res = await fetch(new URL('/admin/status', mcpUrl), { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  assert.equal(res.status, 200, `/admin/status answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}
