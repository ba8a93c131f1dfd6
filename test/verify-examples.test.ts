/**
 * The example CRM with @toolgate/verify switched on (as the demo runs it): calls through the
 * gateway pass and the CRM learns user, agent and gateway for each; a call sent straight to the
 * CRM without toolgate's token is refused before any tool runs. The same for the stdio HR
 * example, whose token travels in the request's _meta.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import { exampleCommand } from '../src/cli/demo.js';
import type { RunningGateway } from '../src/gateway.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { gatewayWith } from './support/gateway.js';
import { freePort } from './support/servers.js';
import { tempHome } from './support/temp-home.js';

// The examples keep used token ids in a replay file; here it goes to a temporary folder.
const state = tempHome('toolgate-verify-examples-');
process.on('exit', () => state.remove());

describe('examples/crm verifying per-call tokens', () => {
  let crm: CrmServerHandle;
  let gateway: RunningGateway;
  let client: Client;

  before(async () => {
    const port = await freePort();
    crm = await startCrmServer({
      port: 0,
      verify: { jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, issuer: 'toolgate', replayFile: join(state.path, 'crm-used-jti') },
    });
    gateway = await gatewayWith(
      `listener:
  port: ${port}
credentials:
  keys: { ephemeral: true }
upstreams:
  - id: crm
    url: ${crm.url}
    credential: { scopes: { search_contacts: [crm.read] } }
`,
      { identity: acceptAnyBearerForTests({ agent: 'sales-bot', user: 'alice' }) },
    );
    client = new Client({ name: 'crm-verify-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer client' } } }));
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await crm?.close();
  });

  test('a call through toolgate passes; the CRM knows it was alice via sales-bot via toolgate, with crm.read', async () => {
    const result = await client.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'a' } });
    assert.notEqual(result.isError, true);
    const chains = crm.verifiedChains();
    assert.equal(chains.length, 1);
    assert.deepEqual(
      [chains[0]!.user, chains[0]!.agent, chains[0]!.gateway.issuer, chains[0]!.tool, chains[0]!.scopes],
      ['alice', 'sales-bot', 'toolgate', 'search_contacts', ['crm.read']],
    );
  });

  test("a tools/call sent straight to the CRM without toolgate's token → 401 ERR_TOKEN_MISSING, no tool ran", async () => {
    const before = crm.receivedToolCalls().length;
    const res = await fetch(crm.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_contact', arguments: { tenant: 'acme', id: 'c-1' } } }),
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { data: { code: string } } }).error.data.code, 'ERR_TOKEN_MISSING');
    assert.equal(crm.receivedToolCalls().length, before);
  });
});

describe('examples/hr (stdio) verifying per-call tokens carried in _meta', () => {
  let gateway: RunningGateway;
  let client: Client;
  let port: number;
  const hr = exampleCommand('hr');

  before(async () => {
    port = await freePort();
    gateway = await gatewayWith(
      `listener:
  port: ${port}
credentials:
  keys: { ephemeral: true }
upstreams:
  - id: hr
    command: ${JSON.stringify(hr.command)}
    args: ${JSON.stringify(hr.args)}
    env: { TOOLGATE_JWKS_URL: "http://127.0.0.1:${port}/.well-known/jwks.json", TOOLGATE_REPLAY_FILE: ${JSON.stringify(join(state.path, 'hr-used-jti'))} }
`,
      { identity: acceptAnyBearerForTests({ agent: 'hr-assistant', user: 'bob' }) },
    );
    client = new Client({ name: 'hr-verify-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer client' } } }));
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
  });

  test("a call through toolgate passes the HR server's verification", async () => {
    const result = await client.callTool({ name: 'hr__list_employees', arguments: { tenant: 'acme' } });
    assert.notEqual(result.isError, true, JSON.stringify(result));
  });

  test('the HR server run directly, with verification on, refuses a tools/call without a token (ERR_TOKEN_MISSING)', async () => {
    const direct = new Client({ name: 'hr-direct', version: '1' });
    await direct.connect(
      new StdioClientTransport({
        command: hr.command,
        args: hr.args,
        env: {
          ...(process.env as Record<string, string>),
          TOOLGATE_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
          TOOLGATE_REPLAY_FILE: join(state.path, 'hr-direct-used-jti'),
        },
        stderr: 'ignore',
      }),
    );
    try {
      await assert.rejects(direct.callTool({ name: 'list_employees', arguments: { tenant: 'acme' } }), /ERR_TOKEN_MISSING|per-call token/);
      const { tools } = await direct.listTools();
      assert.ok(tools.length > 0, 'lists need no token');
    } finally {
      await direct.close();
    }
  });
});
