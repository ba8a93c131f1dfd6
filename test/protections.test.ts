/**
 * Each protection of the endpoint, tried with its bad input, asserting what the client got.
 * The upstream is a real probe server; "not forwarded" is checked against what it received.
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { ADMIN_YAML, adminStatus } from './support/admin-status.js';
import { gatewayWith, MCP_HEADERS, openSession } from './support/gateway.js';
import type { RpcAnswer } from './support/rpc-answer.js';

let gateway: RunningGateway;
let probe: ProbeServer;

before(async () => {
  probe = await startProbeServer();
  gateway = await gatewayWith(`listener:
  port: 0
  max_body_bytes: 2048
upstreams:
  - id: probe
    url: ${probe.url}
${ADMIN_YAML}`);
});
after(async () => {
  await gateway?.close();
  await probe?.close();
});

async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: RpcAnswer; headers: Headers }> {
  const res = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** node:http lets a test send a Host header fetch would refuse to forge. */
function rawPost(headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...MCP_HEADERS, ...headers } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });

describe('DNS rebinding: Host and Origin', () => {
  test('Host evil.example:80 → 403, and no session is created', async () => {
    const before = gateway.sessions.size;
    const r = await rawPost({ host: 'evil.example' }, INIT);
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.body).error.message, /Host evil.example is not allowed/);
    assert.equal(gateway.sessions.size, before);
  });

  test('Origin http://evil.example → 403', async () => {
    const r = await post(INIT, { origin: 'http://evil.example' });
    assert.equal(r.status, 403);
    assert.match(r.json.error.message, /Origin http:\/\/evil.example is not allowed/);
  });

  test('Origin of the gateway itself is allowed', async () => {
    const r = await post(INIT, { origin: new URL(gateway.url).origin });
    assert.equal(r.status, 200);
  });
});

describe('message shape', () => {
  test('malformed JSON `{"jsonrpc": ` → 400 with -32700', async () => {
    const r = await post('{"jsonrpc": ');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32700);
  });

  test('a JSON-RPC batch → 400 with -32600 naming batches', async () => {
    const sid = await openSession(gateway.url);
    const r = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 2, method: 'ping' },
      ]),
      { 'mcp-session-id': sid },
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32600);
    assert.match(r.json.error.message, /batch/);
  });

  test('jsonrpc "1.0" → 400 with -32600 and the reason', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'ping' }));
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32600);
    assert.match(r.json.error.message, /jsonrpc must be "2.0"/);
  });

  test('a body over max_body_bytes (2048) → 413, and nothing reaches the upstream', async () => {
    const sid = await openSession(gateway.url);
    const seen = probe.log.calls.length;
    const big = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'probe__count', arguments: { tag: 'x'.repeat(4000), steps: 1 } } });
    const r = await post(big, { 'mcp-session-id': sid });
    assert.equal(r.status, 413);
    assert.match(r.json.error.message, /2048 bytes/);
    assert.equal(probe.log.calls.length, seen);
  });

  test('Content-Type text/plain → 415', async () => {
    const r = await post(INIT, { 'content-type': 'text/plain' });
    assert.equal(r.status, 415);
  });

  test('Accept: application/json only → 406', async () => {
    const r = await post(INIT, { accept: 'application/json' });
    assert.equal(r.status, 406);
  });

  test('PUT → 405 with Allow', async () => {
    const res = await fetch(gateway.url, { method: 'PUT', body: '{}' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST, DELETE');
  });
});

describe('sessions', () => {
  test('a request without Mcp-Session-Id → 400', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /Mcp-Session-Id/);
  });

  test('an unknown session id → 404', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), { 'mcp-session-id': 'not-a-session' });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, -32001);
  });

  test('DELETE ends the session; the id then answers 404', async () => {
    const sid = await openSession(gateway.url);
    const del = await fetch(gateway.url, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    assert.equal(del.status, 200);
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }), { 'mcp-session-id': sid });
    assert.equal(r.status, 404);
  });

  test('an unsupported MCP-Protocol-Version header on a session → 400', async () => {
    const sid = await openSession(gateway.url);
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }), { 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /1999-01-01/);
  });

  test('initialize offering an unknown version is answered with our latest', async () => {
    const r = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2099-01-01', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    );
    assert.equal(r.status, 200);
    assert.equal(r.json.result.protocolVersion, '2025-11-25');
  });

  test('an unknown method → -32601 naming it', async () => {
    const sid = await openSession(gateway.url);
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/explode' }), { 'mcp-session-id': sid });
    assert.equal(r.json.error.code, -32601);
    assert.match(r.json.error.message, /tools\/explode/);
  });
});

describe('health', () => {
  test('/healthz is 200, /readyz is 200 and /admin/status lists the upstream as ready', async () => {
    const base = gateway.url.replace(/\/mcp$/, '');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready' }]);
    const body = await adminStatus<{ upstreams: Record<string, { state: string }> }>(gateway.url);
    assert.equal(body.upstreams.probe!.state, 'ready');
  });
});
