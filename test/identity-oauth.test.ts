/**
 * toolgate as an OAuth 2.1 resource server in front of two probe upstreams, with a real
 * authorization server (oidc-provider) issuing RS256 at+jwt tokens for toolgate's resource.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import type { AuditEvent } from '../src/pipeline/stages.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { type AuthorizationServer, startAuthorizationServer } from './support/authorization-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';

let as: AuthorizationServer;
let crm: ProbeServer;
let hr: ProbeServer;
let gateway: RunningGateway;
const audit = new MemoryAuditSink();

before(async () => {
  as = await startAuthorizationServer([
    { client_id: 'sales-bot', client_secret: 'sales-secret', scope: 'crm.read crm.write' },
    { client_id: 'report-bot', client_secret: 'report-secret', scope: 'crm.read' },
    { client_id: 'hr-assistant', client_secret: 'hr-secret', scope: 'crm.read hr.employee.read' },
  ]);
  crm = await startProbeServer();
  hr = await startProbeServer();
  gateway = await gatewayWith(
    `auth:
  issuers:
    - issuer: ${as.issuer}
  jwks_refresh_min_seconds: 2
upstreams:
  - id: crm
    url: ${crm.url}
    scopes: [crm.read]
  - id: hr
    url: ${hr.url}
    scopes: [hr.employee.read]
`,
    { audit },
  );
});

after(async () => {
  await gateway?.close();
  await crm?.close();
  await hr?.close();
  await as?.close();
});

function authEvents(): AuditEvent[] {
  return audit.events.filter((e) => e.kind === 'auth');
}

async function rpc(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(body) });
}

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

async function session(token: string): Promise<string> {
  const res = await rpc(
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
    { authorization: `Bearer ${token}` },
  );
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  const sid = res.headers.get('mcp-session-id')!;
  await rpc({ jsonrpc: '2.0', method: 'notifications/initialized' }, { authorization: `Bearer ${token}`, 'mcp-session-id': sid });
  return sid;
}

test('protected-resource metadata is served at the path-inserted well-known URL and at the root', async () => {
  const origin = new URL(gateway.url).origin;
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const res = await fetch(`${origin}${path}`);
    assert.equal(res.status, 200, path);
    assert.deepEqual(await res.json(), {
      resource: gateway.url,
      authorization_servers: [as.issuer],
      scopes_supported: ['crm.read', 'hr.employee.read'],
      bearer_methods_supported: ['header'],
      resource_name: 'toolgate',
      dpop_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'],
    });
  }
});

test('no token: 401 with resource_metadata and scope, no error code, recorded', async () => {
  const before = crm.log.calls.length;
  const res = await rpc({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  assert.equal(res.status, 401);
  const origin = new URL(gateway.url).origin;
  assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp", scope="crm.read hr.employee.read"`);
  assert.equal(crm.log.calls.length, before);
  assert.equal(authEvents().at(-1)?.detail?.code, 'ERR_TOKEN_MISSING');
});

test('a token from the real authorization server for this resource lists and calls only the upstreams its scopes reach', async () => {
  const token = await as.token('sales-bot', gateway.url);
  const sid = await session(token);
  const h = { authorization: `Bearer ${token}`, 'mcp-session-id': sid };
  const list = await (await rpc({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, h)).json();
  const names = (list.result.tools as Array<{ name: string }>).map((t) => t.name);
  assert.ok(names.includes('crm__count'), names.join());
  assert.ok(!names.some((n) => n.startsWith('hr__')), `hr tools are hidden without hr.employee.read: ${names.join()}`);

  const ok = await (await rpc({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'oauth', steps: 1 } } }, h)).text();
  assert.match(ok, /oauth done after 1/);
  assert.equal(crm.log.calls.at(-1)?.tool, 'count');

  const hrBefore = hr.log.calls.length;
  const denied = await rpc({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'hr__count', arguments: { tag: 'x', steps: 1 } } }, h);
  assert.equal(denied.status, 403);
  assert.match(denied.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope", scope="hr.employee.read", resource_metadata="/);
  const body = await denied.json();
  assert.deepEqual(body.error.data, { scopes: ['hr.employee.read'] });
  assert.equal(hr.log.calls.length, hrBefore, 'the hr upstream was not called');
  const event = authEvents().at(-1)!;
  assert.equal(event.detail?.outcome, 'insufficient_scope');
  assert.match(String(event.detail?.reason), /lacks baseline scope\(s\) hr.employee.read of upstream hr \(has: crm.read crm.write\)/);
  assert.equal(event.principal?.agent, 'sales-bot');
  assert.equal(event.principal?.user, undefined, 'a client-credentials token (sub = client_id) carries no user');
});

test('the token is checked on every request: GET and DELETE without it answer 401', async () => {
  const token = await as.token('report-bot', gateway.url);
  const sid = await session(token);
  const get = await fetch(gateway.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
  assert.equal(get.status, 401);
  assert.match(get.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata=/);
  const del = await fetch(gateway.url, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
  assert.equal(del.status, 401);
  const delOk = await fetch(gateway.url, { method: 'DELETE', headers: { 'mcp-session-id': sid, authorization: `Bearer ${token}` } });
  assert.equal(delOk.status, 200);
});

test("a session used with another principal's token answers 404 and is recorded", async () => {
  const owner = await as.token('sales-bot', gateway.url);
  const other = await as.token('report-bot', gateway.url);
  const sid = await session(owner);
  const before = crm.log.calls.length;
  const res = await rpc(
    { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'hijack', steps: 1 } } },
    { authorization: `Bearer ${other}`, 'mcp-session-id': sid },
  );
  assert.equal(res.status, 404);
  assert.equal(crm.log.calls.length, before);
  const event = authEvents().at(-1)!;
  assert.equal(event.detail?.outcome, 'foreign_session');
  assert.equal(event.sessionId, sid);
  assert.match(String(event.detail?.reason), /report-bot/);
  // A fresh token of the same principal (tokens rotate) keeps the session.
  const again = await as.token('sales-bot', gateway.url);
  const ok = await rpc({ jsonrpc: '2.0', id: 6, method: 'ping' }, { authorization: `Bearer ${again}`, 'mcp-session-id': sid });
  assert.equal(ok.status, 200);
});

test("a token for another resource (the upstream's own URL) is refused as invalid_token", async () => {
  const token = await as.token('sales-bot', crm.url);
  const res = await rpc(INIT, { authorization: `Bearer ${token}` });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.equal(authEvents().at(-1)?.detail?.code, 'ERR_TOKEN_AUDIENCE');
  assert.match(String(authEvents().at(-1)?.detail?.reason), new RegExp(crm.url.replace(/[/.]/g, '\\$&')));
});

test('key rotation at the issuer is picked up without a restart; unknown kids refetch the JWKS at most once per cooldown', async () => {
  // Warm: one verification, so the JWKS is cached.
  const first = await as.token('report-bot', gateway.url);
  assert.equal((await rpc(INIT, { authorization: `Bearer ${first}` })).status, 200);
  await new Promise((r) => setTimeout(r, 2100)); // a sleep: the 2 s refresh cooldown must pass on the real clock
  const fetchesBefore = as.jwksFetches;
  const newKid = as.rotate();
  const rotated = await as.token('report-bot', gateway.url);
  assert.equal(JSON.parse(Buffer.from(rotated.split('.')[0]!, 'base64url').toString()).kid, newKid);
  const res = await rpc(INIT, { authorization: `Bearer ${rotated}` });
  assert.equal(res.status, 200, await res.text());
  assert.equal(as.jwksFetches, fetchesBefore + 1, 'the unknown kid caused exactly one JWKS refresh');

  // Tokens with made-up kids inside the cooldown do not reach the issuer again.
  const { privateKey } = await generateKeyPair('RS256');
  for (let i = 0; i < 5; i++) {
    const forged = await new SignJWT({ client_id: 'report-bot', scope: 'crm.read' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: `made-up-${i}` })
      .setIssuer(as.issuer)
      .setAudience(gateway.url)
      .setSubject('report-bot')
      .setJti(`j${i}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const r = await rpc(INIT, { authorization: `Bearer ${forged}` });
    assert.equal(r.status, 401);
    assert.equal(authEvents().at(-1)?.detail?.code, 'ERR_TOKEN_UNKNOWN_KEY');
  }
  assert.equal(as.jwksFetches, fetchesBefore + 1, 'no further JWKS fetches inside the cooldown');
});

test('2026-07-28 (stateless) requests: no token → 401; a missing baseline scope → 403 insufficient_scope; the upstream not called', async () => {
  const { MetaKey, MODERN_PROTOCOL_VERSION: V } = await import('../src/protocol/modern.js');
  const call = (name: string) => ({
    jsonrpc: '2.0',
    id: 9,
    method: 'tools/call',
    params: {
      name,
      arguments: { tag: 'modern', steps: 1 },
      _meta: { [MetaKey.protocolVersion]: V, [MetaKey.clientInfo]: { name: 't', version: '1' }, [MetaKey.clientCapabilities]: {} },
    },
  });
  const headers = (name: string, token?: string) => ({
    ...MCP_HEADERS,
    'mcp-protocol-version': V,
    'mcp-method': 'tools/call',
    'mcp-name': name,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
  const none = await fetch(gateway.url, { method: 'POST', headers: headers('crm__count'), body: JSON.stringify(call('crm__count')) });
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata=/);

  const token = await as.token('report-bot', gateway.url);
  const ok = await fetch(gateway.url, { method: 'POST', headers: headers('crm__count', token), body: JSON.stringify(call('crm__count')) });
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /modern done after 1/);

  const hrBefore = hr.log.calls.length;
  const denied = await fetch(gateway.url, { method: 'POST', headers: headers('hr__count', token), body: JSON.stringify(call('hr__count')) });
  assert.equal(denied.status, 403);
  assert.match(denied.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="hr.employee.read"/);
  assert.equal(hr.log.calls.length, hrBefore);
});

test('step-up on the same session: 403 insufficient_scope, then a token with the scope → the call goes through', async () => {
  const narrow = await as.token('hr-assistant', gateway.url, 'crm.read');
  const sid = await session(narrow);
  const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'hr__count', arguments: { tag: 'step-up', steps: 1 } } };
  const denied = await rpc(call, { authorization: `Bearer ${narrow}`, 'mcp-session-id': sid });
  assert.equal(denied.status, 403);
  const scope = /scope="([^"]+)"/.exec(denied.headers.get('www-authenticate') ?? '')?.[1];
  assert.equal(scope, 'hr.employee.read');
  const wider = await as.token('hr-assistant', gateway.url, `crm.read ${scope}`);
  const ok = await rpc(call, { authorization: `Bearer ${wider}`, 'mcp-session-id': sid });
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /step-up done after 1/);
  assert.equal(hr.log.calls.at(-1)?.tool, 'count');
});
