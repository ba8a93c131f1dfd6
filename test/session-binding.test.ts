/**
 * Session binding: a session belongs to the principal that opened it, and "the same principal"
 * covers every identity claim policy reads — issuer, agent, user and tenant (scopes are checked
 * on every request, so a stepped-up token keeps its session). Tokens from a local issuer the
 * gateway trusts by its JWKS file; the upstream is the probe server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { principalFor, tokenIdentity } from '../src/identity/principal.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';
import { type LocalIssuer, localIssuer } from './support/local-issuer.js';
import { tempHome } from './support/temp-home.js';

const home = tempHome();
const audit = new MemoryAuditSink();
let issuer: LocalIssuer;
let probe: ProbeServer;
let gateway: RunningGateway;

before(async () => {
  issuer = await localIssuer(home.path);
  probe = await startProbeServer();
  gateway = await gatewayWith(`${issuer.authYaml}upstreams:\n  - id: crm\n    url: ${probe.url}\n`, { audit, home: home.path });
});

after(async () => {
  await gateway?.close();
  await probe?.close();
  home.remove();
});

function post(body: unknown, token: string, sid?: string): Promise<Response> {
  return fetch(gateway.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...(sid ? { 'mcp-session-id': sid } : {}) },
    body: JSON.stringify(body),
  });
}

async function openSession(token: string): Promise<string> {
  const res = await post(
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
    token,
  );
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  const sid = res.headers.get('mcp-session-id')!;
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, token, sid)).text();
  return sid;
}

describe('session binding', () => {
  test('a token with the same issuer, agent and user but tenant globex on a session opened by tenant acme: 404, recorded as foreign_session, upstream not called', async () => {
    const sid = await openSession(await issuer.sign({ aud: gateway.url, tenant: 'acme' }));
    const calls = probe.log.calls.length;
    const res = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'cross-tenant', steps: 1 } } },
      await issuer.sign({ aud: gateway.url, tenant: 'globex' }),
      sid,
    );
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.message, 'Session not found');
    assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
    const event = audit.events.filter((e) => e.kind === 'auth' && e.sessionId === sid).at(-1);
    assert.equal(event?.detail?.outcome, 'foreign_session');
    assert.equal(event?.principal?.tenant, 'globex');
    assert.match(String(event?.detail?.reason), /\|acme\|.*presented by .*\|globex\|/);
  });

  test('a fresh token of the same principal and tenant, with another scope set, keeps the session (tokens rotate and step up)', async () => {
    const sid = await openSession(await issuer.sign({ aud: gateway.url, tenant: 'acme' }));
    const res = await post({ jsonrpc: '2.0', id: 3, method: 'ping' }, await issuer.sign({ aud: gateway.url, tenant: 'acme', scope: 'crm.read crm.write' }), sid);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual((await res.json()).result, {});
  });

  test('a tenant claim without a tenant on the session (a token that drops the claim) is another principal: 404', async () => {
    const sid = await openSession(await issuer.sign({ aud: gateway.url, tenant: 'acme' }));
    const res = await post({ jsonrpc: '2.0', id: 4, method: 'ping' }, await issuer.sign({ aud: gateway.url }), sid);
    assert.equal(res.status, 404);
    await res.text();
  });
});

describe('binding keys', () => {
  const config = { claims: { agent: 'client_id', user: 'sub', tenant: 'tenant' } };
  const key = (claims: Record<string, unknown>): string => principalFor(tokenIdentity({ iss: 'https://i', exp: 2e9, ...claims }, config, 0), undefined, []).bindingKey;

  test("claims holding the separator ('|') or '-' cannot make two principals' keys equal", () => {
    const pairs: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [
        { client_id: 'bot', sub: 'alice|acme' },
        { client_id: 'bot', sub: 'alice', tenant: 'acme' },
      ],
      [
        { client_id: 'bot|alice', sub: 'x' },
        { client_id: 'bot', sub: 'alice|x' },
      ],
      [{ client_id: 'bot', tenant: '-' }, { client_id: 'bot' }],
      [
        { client_id: 'bot', tenant: 'a%7Cb' },
        { client_id: 'bot', tenant: 'a|b' },
      ],
    ];
    for (const [a, b] of pairs) assert.notEqual(key(a), key(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(key({ client_id: 'bot', sub: 'alice', tenant: 'acme' }), 'https://i|bot|alice|acme|-', 'ordinary claims stay readable');
  });
});
