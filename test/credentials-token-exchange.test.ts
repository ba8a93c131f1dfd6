/**
 * Token-exchange mode against a real authorization server (oidc-provider v9 with an RFC 8693
 * grant): the gateway exchanges the caller's validated token for one whose audience is the
 * upstream; the upstream receives that token, never the caller's. A refused exchange fails the
 * call with an error naming the upstream, writes a 'credential' audit event, and the upstream is
 * not called — no fallback to the caller's token.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { type ExchangeServer, startExchangeServer } from './support/exchange-authorization-server.js';
import { gatewayWith } from './support/gateway.js';
import { type RecordingUpstream, startRecordingUpstream } from './support/recording-upstream.js';

const GATEWAY_RESOURCE = 'https://toolgate.test/mcp';
const clients = { agent: { client_id: 'sales-bot', client_secret: 'agent-secret' }, gateway: { client_id: 'toolgate', client_secret: 'gateway-secret' } };

describe('credential mode token_exchange (RFC 8693) against oidc-provider', () => {
  let as: ExchangeServer;
  let upstream: RecordingUpstream;
  let gateway: RunningGateway;
  let client: Client;
  let agentToken: string;
  const audit = new MemoryAuditSink();

  before(async () => {
    as = await startExchangeServer(clients, GATEWAY_RESOURCE);
    upstream = await startRecordingUpstream();
    gateway = await gatewayWith(
      `upstreams:
  - id: crm
    url: ${upstream.url}
    credential:
      mode: token_exchange
      token_endpoint: ${as.tokenEndpoint}
      client_id: toolgate
      client_secret: \${EXCHANGE_SECRET}
      scopes: { echo: [crm.read] }
`.replace('${EXCHANGE_SECRET}', clients.gateway.client_secret),
      { identity: acceptAnyBearerForTests(), audit },
    );
    agentToken = await as.agentToken('sales-bot', GATEWAY_RESOURCE);
    client = new Client({ name: 'exchange-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${agentToken}` } } }));
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await upstream?.close();
    await as?.close();
  });

  test("each call carries a token the authorization server issued for the upstream (aud = its URL), never the caller's", async () => {
    await client.callTool({ name: 'crm__echo', arguments: { text: 'one' } });
    await client.callTool({ name: 'crm__echo', arguments: { text: 'two' } });
    const calls = upstream.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call');
    assert.equal(calls.length, 2);
    for (const call of calls) {
      const token = String(call.headers.authorization).replace(/^Bearer /, '');
      assert.notEqual(token, agentToken);
      assert.ok(!call.rawHeaders.join('\n').includes(agentToken), "the caller's token went upstream");
      const claims = decodeJwt(token);
      assert.equal(claims.iss, as.issuer);
      assert.equal(claims.aud, upstream.url);
      assert.equal(claims.sub, 'sales-bot', "subject carried over from the caller's token");
      assert.deepEqual(claims.act, { sub: 'toolgate' });
      assert.equal(claims.scope, 'crm.read');
    }
    const issued = as.exchanges.filter((e) => e.outcome === 'issued');
    assert.equal(issued.length, 2);
    assert.deepEqual(issued[0], { clientId: 'toolgate', subject: 'sales-bot', resource: upstream.url, scope: 'crm.read', outcome: 'issued' });
  });

  test('the authorization server refuses the exchange (invalid_target) → the call fails naming the upstream, audited, upstream not called', async () => {
    as.refuse.add(upstream.url);
    try {
      const before = upstream.executed.length;
      const requestsBefore = upstream.requests.length;
      await assert.rejects(client.callTool({ name: 'crm__echo', arguments: { text: 'refused' } }), (err: Error) => {
        assert.match(err.message, /no credential for upstream crm \(ERR_TOKEN_EXCHANGE_REFUSED\)/);
        assert.doesNotMatch(err.message, /not permitted/, "the AS's words are for the auditor, not the client");
        return true;
      });
      assert.equal(upstream.executed.length, before);
      assert.equal(upstream.requests.length, requestsBefore, 'no request at all reached the upstream');
      const event = audit.events.filter((e) => e.kind === 'credential').at(-1);
      assert.ok(event, 'no credential audit event');
      assert.equal(event.invocation?.upstream, 'crm');
      assert.equal(event.detail?.code, 'ERR_TOKEN_EXCHANGE_REFUSED');
      assert.match(String(event.detail?.reason), /invalid_target: exchange for this resource is not permitted/);
      assert.equal(event.principal?.subjectToken, undefined, 'the audit record holds no token');
      assert.equal(as.exchanges.at(-1)?.outcome, 'refused');
    } finally {
      as.refuse.delete(upstream.url);
    }
  });

  test('a caller token the authorization server does not accept as subject ("Bearer not-a-jwt") → refused, no fallback', async () => {
    const other = new Client({ name: 'exchange-test-bad', version: '1' });
    await other.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer not-a-jwt' } } }));
    try {
      const requestsBefore = upstream.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call').length;
      await assert.rejects(other.callTool({ name: 'crm__echo', arguments: { text: 'x' } }), /no credential for upstream crm/);
      const after = upstream.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call');
      assert.equal(after.length, requestsBefore);
      assert.ok(!upstream.requests.some((r) => r.rawHeaders.join('\n').includes('not-a-jwt')));
      assert.match(String(audit.events.filter((e) => e.kind === 'credential').at(-1)?.detail?.reason), /invalid_grant/);
    } finally {
      await other.close();
    }
  });
});
