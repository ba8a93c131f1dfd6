/**
 * Decision.missingScopes (set by a policy stage) takes the same road as the baseline scopes:
 * HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`, and the
 * upstream is not called. The policy here is a stand-in written in the test (the real Cedar
 * stage lives in src/policy); the identity, router and channel are the real ones.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { readDevIssuer, signDevToken } from '../src/identity/dev-issuer.js';
import type { Decision, PolicyStage } from '../src/pipeline/stages.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';

const writesNeedCrmWrite: PolicyStage = {
  decide(principal, invocation): Decision {
    if (invocation.target === 'add_tool' && !principal.scopes.includes('crm.write'))
      return { verdict: 'deny', policies: ['writes-need-crm.write'], errors: [], missingScopes: ['crm.write'] };
    return { verdict: 'allow', policies: [], errors: [] };
  },
  mayList: () => true,
};

let dir: string;
let probe: ProbeServer;
let gateway: RunningGateway;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'toolgate-scopes-'));
  probe = await startProbeServer();
  gateway = await gatewayWith(`auth:\n  dev_issuer: true\n  dev_issuer_file: ${join(dir, 'dev.json')}\nupstreams:\n  - id: crm\n    url: ${probe.url}\n    scopes: [crm.read]\n`, {
    policy: writesNeedCrmWrite,
  });
});

after(async () => {
  await gateway?.close();
  await probe?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a policy denial with missingScopes [crm.write] → 403 insufficient_scope naming crm.write; upstream not called', async () => {
  const token = await signDevToken(readDevIssuer(join(dir, 'dev.json')), { agent: 'sales-bot', user: 'alice', scopes: ['crm.read'], ttlSeconds: 300 });
  const h = { ...MCP_HEADERS, authorization: `Bearer ${token}` };
  const init = await fetch(gateway.url, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  const sid = init.headers.get('mcp-session-id')!;
  const calls = probe.log.calls.length;
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { ...h, 'mcp-session-id': sid },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'crm__add_tool', arguments: { name: 'x' } } }),
  });
  assert.equal(res.status, 403);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope", scope="crm.write"/);
  assert.deepEqual((await res.json()).error.data, { scopes: ['crm.write'] });
  assert.equal(probe.log.calls.length, calls);
  // A read the policy allows goes through on the same session.
  const ok = await fetch(gateway.url, {
    method: 'POST',
    headers: { ...h, 'mcp-session-id': sid },
    body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'r', steps: 1 } } }),
  });
  assert.match(await ok.text(), /r done after 1/);
});
