/**
 * A 2026-07-28 client and a 2025-11-25 client against the same gateway and upstreams:
 * crm (SDK v2, Streamable HTTP) and hr (SDK v1, stdio), as in the demo.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startCrmServer } from '../examples/crm/server.js';
import { exampleCommand } from '../src/cli/demo.js';
import type { RunningGateway } from '../src/gateway.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { ADMIN_YAML, adminStatus } from './support/admin-status.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';
import type { RpcAnswer } from './support/rpc-answer.js';
import { waitFor } from './support/wait-for.js';

let gateway: RunningGateway;
let crm: Awaited<ReturnType<typeof startCrmServer>>;
let probe: ProbeServer;

before(async () => {
  crm = await startCrmServer({ host: '127.0.0.1', port: 0, log: () => undefined });
  probe = await startProbeServer();
  const hr = exampleCommand('hr');
  gateway = await gatewayWith(`upstreams:
  - id: crm
    url: ${crm.url}
  - id: hr
    command: ${JSON.stringify(hr.command)}
    args: ${JSON.stringify(hr.args)}
  - id: probe
    url: ${probe.url}
${ADMIN_YAML}`);
});
after(async () => {
  await gateway?.close();
  await crm?.close();
  await probe?.close();
});

function text(result: unknown): string {
  return ((result as { content: Array<{ text?: string }> }).content ?? []).map((c) => c.text ?? '').join('\n');
}

const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

describe('two eras, one gateway', () => {
  test('each upstream is spoken in its own era: crm (SDK v2) in 2026-07-28, hr (SDK v1, stdio) and the probe in 2025-11-25', async () => {
    const ready = await adminStatus<{ upstreams: Record<string, { era: string; protocolVersion: string }> }>(gateway.url);
    assert.deepEqual(ready.upstreams.crm, { ...ready.upstreams.crm, era: 'modern', protocolVersion: '2026-07-28' });
    assert.deepEqual(ready.upstreams.hr, { ...ready.upstreams.hr, era: 'legacy', protocolVersion: '2025-11-25' });
    assert.equal(ready.upstreams.probe!.era, 'legacy');
    // What reached the CRM server was stateless: the envelope's headers, no session id.
    const seen = crm.receivedHeaders();
    const last = seen[seen.length - 1] as Record<string, string | undefined>;
    assert.equal(last['mcp-protocol-version'], '2026-07-28');
    assert.equal(last['mcp-session-id'], undefined);
  });

  test('a 2026-07-28 client (SDK v2, auto) and a 2025-11-25 client (SDK v1) both list and call through the gateway', async () => {
    const modern = new ClientV2({ name: 'modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new TransportV2(new URL(gateway.url)));
    const legacy = new ClientV1({ name: 'legacy', version: '1' });
    const legacyTransport = new TransportV1(new URL(gateway.url));
    await legacy.connect(legacyTransport);
    try {
      assert.equal(modern.getNegotiatedProtocolVersion(), '2026-07-28');
      assert.equal(legacyTransport.protocolVersion, '2025-11-25');
      assert.ok(legacyTransport.sessionId, 'the legacy client has a session');

      const modernTools = (await modern.listTools()).tools.map((t) => t.name).sort();
      const legacyTools = (await legacy.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(modernTools, legacyTools, 'both eras see the same catalog');
      assert.ok(modernTools.includes('crm__write_contact') && modernTools.includes('hr__read_employee'));

      const written = await modern.callTool({
        name: 'crm__write_contact',
        arguments: { tenant: 'acme', first_name: 'Era', last_name: 'Modern', email: 'era.modern@acme.example' },
      });
      assert.match(text(written), /era.modern@acme.example/);
      const found = await legacy.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'Era' } });
      assert.match(text(found), /era.modern@acme.example/, 'the 2025 client reads what the 2026 client wrote');

      const bob = await modern.callTool({ name: 'hr__read_employee', arguments: { tenant: 'acme', employee_id: 'E1002' } });
      assert.match(text(bob), /Bob/);
    } finally {
      await modern.close();
      await legacy.close();
    }
  });

  test('progress reaches a 2026-07-28 client on its request stream', async () => {
    const modern = new ClientV2({ name: 'modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await modern.connect(new TransportV2(new URL(gateway.url)));
    const seen: number[] = [];
    const result = await modern.callTool({ name: 'probe__count', arguments: { tag: 'm', steps: 3 } }, { onprogress: (p) => seen.push(p.progress) });
    assert.equal(text(result), 'm done after 3');
    assert.deepEqual(seen, [1, 2, 3]);
    await modern.close();
  });
});

describe('2026-07-28 on the wire', () => {
  test('closing the request stream cancels the call: the upstream sees the cancellation (era rule for 2026-07-28)', async () => {
    const abort = new AbortController();
    const call = fetch(gateway.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'probe__wait_for_cancel' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 40,
        method: 'tools/call',
        params: { name: 'probe__wait_for_cancel', arguments: { tag: 'modern-disconnect' }, _meta: MODERN_META },
      }),
      signal: abort.signal,
    }).catch(() => undefined);
    await waitFor(() => probe.log.calls.some((c) => (c.args as { tag: string }).tag === 'modern-disconnect'), { what: 'the call to reach the upstream' });
    abort.abort();
    await call;
    await waitFor(() => probe.log.cancelled.includes('modern-disconnect'), { what: 'the upstream to see the cancellation' });
    assert.ok(probe.log.cancelled.includes('modern-disconnect'), 'the upstream was told to cancel');
  });

  async function post(body: unknown, headers: Record<string, string>): Promise<{ status: number; json: RpcAnswer }> {
    const res = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(body) });
    const t = await res.text();
    return { status: res.status, json: t ? JSON.parse(t) : undefined };
  }

  test('server/discover lists both eras and names the gateway', async () => {
    const r = await post(
      { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: MODERN_META } },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' },
    );
    assert.equal(r.status, 200);
    assert.ok(r.json.result.supportedVersions.includes('2026-07-28'));
    assert.ok(r.json.result.supportedVersions.includes('2025-11-25'));
    assert.equal(r.json.result._meta['io.modelcontextprotocol/serverInfo'].name, 'toolgate');
  });

  test('Mcp-Name naming another tool than the body → 400 -32020, and the upstream is not called', async () => {
    const before = probe.log.calls.length;
    const r = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'probe__count', arguments: { tag: 'x', steps: 1 }, _meta: MODERN_META } },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'probe__headers' },
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32020);
    assert.equal(probe.log.calls.length, before);
  });

  test('Mcp-Method missing → 400 -32020', async () => {
    const r = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: MODERN_META } }, { 'mcp-protocol-version': '2026-07-28' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32020);
  });

  test('Mcp-Method tools/list on a tools/call body → 400 -32020', async () => {
    const r = await post(
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'probe__count', arguments: { tag: 'y', steps: 1 }, _meta: MODERN_META } },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list', 'mcp-name': 'probe__count' },
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32020);
  });

  test('an envelope without clientCapabilities → 400 -32602', async () => {
    const r = await post(
      { jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32602);
  });

  test('ping (removed in 2026-07-28) → 404 -32601', async () => {
    const r = await post({ jsonrpc: '2.0', id: 6, method: 'ping', params: { _meta: MODERN_META } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, -32601);
  });

  test('a stateless tools/list carries resultType and private caching hints', async () => {
    const r = await post({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: MODERN_META } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(r.status, 200);
    assert.equal(r.json.result.resultType, 'complete');
    assert.equal(r.json.result.cacheScope, 'private');
    assert.ok(r.json.result.tools.length > 30);
  });
});
