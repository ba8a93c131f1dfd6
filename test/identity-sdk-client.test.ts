/**
 * The official SDK client (v1) against toolgate with a real authorization server: the first
 * request is answered 401 with resource_metadata; the SDK's auth flow then reads toolgate's
 * protected-resource metadata, the authorization server's metadata, gets a token with the
 * client-credentials grant (its ClientCredentialsProvider) for toolgate's resource, retries,
 * and calls a tool through toolgate.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { type AuthorizationServer, startAuthorizationServer } from './support/authorization-server.js';
import { gatewayWith } from './support/gateway.js';

let as: AuthorizationServer;
let crm: ProbeServer;
let gateway: RunningGateway;
const audit = new MemoryAuditSink();

before(async () => {
  as = await startAuthorizationServer([{ client_id: 'sales-bot', client_secret: 'sales-secret', scope: 'crm.read crm.write' }]);
  crm = await startProbeServer();
  gateway = await gatewayWith(`auth:\n  issuers:\n    - issuer: ${as.issuer}\nupstreams:\n  - id: crm\n    url: ${crm.url}\n    scopes: [crm.read]\n`, { audit });
});

after(async () => {
  await gateway?.close();
  await crm?.close();
  await as?.close();
});

test('SDK client: 401 → protected-resource metadata → token from that AS → retry → tools/call through toolgate', async () => {
  const seen: string[] = [];
  const tracingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    seen.push(`${init?.method ?? 'GET'} ${url.origin === as.issuer ? 'AS' : 'toolgate'}${url.pathname} ${res.status}`);
    return res;
  };
  const provider = new ClientCredentialsProvider({ clientId: 'sales-bot', clientSecret: 'sales-secret', scope: 'crm.read crm.write', expectedIssuer: as.issuer });
  const transport = new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider, fetch: tracingFetch });
  const client = new Client({ name: 'sdk-oauth', version: '1.0.0' });
  await client.connect(transport);
  try {
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'crm__count'));
    const result = await client.callTool({ name: 'crm__count', arguments: { tag: 'sdk', steps: 1 } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'sdk done after 1' }]);
    assert.equal(crm.log.calls.at(-1)?.tool, 'count');
  } finally {
    await client.close();
  }
  // The flow, in order: refused, discovery at toolgate, discovery at the AS, token, retry.
  const first = seen.indexOf('POST toolgate/mcp 401');
  const prm = seen.findIndex((s) => s.startsWith('GET toolgate/.well-known/oauth-protected-resource') && s.endsWith(' 200'));
  const asMeta = seen.findIndex((s) => s.startsWith('GET AS/.well-known/') && s.endsWith(' 200'));
  const tokenAt = seen.indexOf('POST AS/token 200');
  const retry = seen.findIndex((s, i) => i > tokenAt && s === 'POST toolgate/mcp 200');
  assert.ok(first >= 0 && first < prm && prm < asMeta && asMeta < tokenAt && tokenAt < retry, seen.join('\n'));
  const token = provider.tokens()!.access_token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  assert.equal(claims.aud, gateway.url, "the token names toolgate's resource (RFC 8707)");
  assert.equal(claims.iss, as.issuer);
  assert.equal(audit.events.find((e) => e.kind === 'auth')?.detail?.code, 'ERR_TOKEN_MISSING', 'the first, tokenless request was recorded');
});
