/**
 * @toolgate/verify against tokens toolgate really minted: two upstreams verify every call; tokens
 * captured at upstream A are then replayed, altered, sent to B, and presented after expiry. Each
 * is refused with its stable code, and no tool handler ran for any of them.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallVerifier } from '@toolgate/verify';
import type { RunningGateway } from '../src/gateway.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { gatewayWith } from './support/gateway.js';
import { type RecordedRequest, type RecordingUpstream, startRecordingUpstream } from './support/recording-upstream.js';

interface Refused {
  status: number;
  code: string | undefined;
}

async function present(url: string, captured: RecordedRequest, body: unknown, authorization = String(captured.headers.authorization)): Promise<Refused> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': String(captured.headers['mcp-protocol-version'] ?? '2025-11-25'),
      authorization,
    },
    body: JSON.stringify(body),
  });
  const answer = (await res.json().catch(() => ({}))) as { error?: { data?: { code?: string } } };
  return { status: res.status, code: answer.error?.data?.code };
}

const isCall = (r: RecordedRequest): boolean => (r.body as { method?: string } | undefined)?.method === 'tools/call';

describe('toolgate/verify on upstreams behind toolgate', () => {
  let a: RecordingUpstream;
  let b: RecordingUpstream;
  let gateway: RunningGateway;
  let client: Client;
  let jwksUrl: string;

  before(async () => {
    a = await startRecordingUpstream();
    b = await startRecordingUpstream();
    gateway = await gatewayWith(
      `credentials:
  keys: { ephemeral: true }
upstreams:
  - id: a
    url: ${a.url}
  - id: b
    url: ${b.url}
`,
      { identity: acceptAnyBearerForTests() },
    );
    jwksUrl = gateway.url.replace(/\/mcp$/, '/.well-known/jwks.json');
    a.setVerifier(new CallVerifier({ replay: 'memory', jwksUrl, audience: a.url, issuer: 'toolgate' }));
    b.setVerifier(new CallVerifier({ replay: 'memory', jwksUrl, audience: b.url, issuer: 'toolgate' }));
    client = new Client({ name: 'verify-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer client-token' } } }));
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await a?.close();
    await b?.close();
  });

  test('calls through toolgate pass verification; the upstream learns user, agent, gateway and the audit record', async () => {
    for (let i = 0; i < 5; i++) {
      const result = await client.callTool({ name: 'a__echo', arguments: { text: `hello ${i}` } });
      assert.notEqual(result.isError, true);
    }
    await client.callTool({ name: 'b__echo', arguments: { text: 'to b' } });
    assert.equal(a.executed.length, 5);
    assert.equal(b.executed.length, 1);
    assert.equal(a.chains.length, 5);
    assert.deepEqual(
      { user: a.chains[0]!.user, agent: a.chains[0]!.agent, issuer: a.chains[0]!.gateway.issuer, tool: a.chains[0]!.tool },
      { user: 'alice', agent: 'sales-bot', issuer: 'toolgate', tool: 'echo' },
    );
    // The audit log's decision record for each call, named in its token: one chain, rising positions.
    const refs = a.chains.map((c) => c.audit);
    assert.ok(
      refs.every((r) => r !== undefined && r.chain === refs[0]!.chain && typeof r.hash === 'string' && r.hash.length > 0),
      JSON.stringify(refs),
    );
    for (let i = 1; i < refs.length; i++) assert.ok(refs[i]!.pos > refs[i - 1]!.pos);
  });

  test('replaying a captured per-call token → 401 ERR_TOKEN_REPLAYED, handler not run', async () => {
    const captured = a.requests.filter(isCall).at(-1)!;
    const before = a.executed.length;
    const refused = await present(a.url, captured, captured.body);
    assert.deepEqual(refused, { status: 401, code: 'ERR_TOKEN_REPLAYED' });
    assert.equal(a.executed.length, before);
  });

  test('the same token with altered arguments ({text: "hello 0"} → "rm -rf") → 403 ERR_ARGUMENTS_MISMATCH, handler not run', async () => {
    const captured = a.requests.filter(isCall)[0]!;
    const body = structuredClone(captured.body) as { params: { arguments: { text: string } } };
    body.params.arguments.text = 'rm -rf';
    const before = a.executed.length;
    assert.deepEqual(await present(a.url, captured, body), { status: 403, code: 'ERR_ARGUMENTS_MISMATCH' });
    assert.equal(a.executed.length, before);
  });

  test('the same token naming another tool (echo → delete_record) → 403 ERR_TOOL_MISMATCH', async () => {
    const captured = a.requests.filter(isCall)[1]!;
    const body = { ...(captured.body as object), params: { name: 'delete_record', arguments: { id: '1' } } };
    const before = a.executed.length;
    assert.deepEqual(await present(a.url, captured, body), { status: 403, code: 'ERR_TOOL_MISMATCH' });
    assert.equal(a.executed.length, before);
  });

  test('a token minted for upstream A presented to upstream B → 401 ERR_AUDIENCE, B ran nothing', async () => {
    const captured = a.requests.filter(isCall)[2]!;
    const before = b.executed.length;
    assert.deepEqual(await present(b.url, captured, captured.body), { status: 401, code: 'ERR_AUDIENCE' });
    assert.equal(b.executed.length, before);
  });

  test('an expired token (verifier clock 40 s later: past the 30 s lifetime and 5 s tolerance) → 401 ERR_EXPIRED', async () => {
    const captured = a.requests.filter(isCall)[3]!;
    a.setVerifier(new CallVerifier({ replay: 'memory', jwksUrl, audience: a.url, now: () => Date.now() + 40_000 }));
    try {
      const before = a.executed.length;
      assert.deepEqual(await present(a.url, captured, captured.body), { status: 401, code: 'ERR_EXPIRED' });
      assert.equal(a.executed.length, before);
    } finally {
      a.setVerifier(new CallVerifier({ replay: 'memory', jwksUrl, audience: a.url }));
    }
  });

  test('a call sent straight to the upstream without a token ("Bearer client-token" is not one) → 401', async () => {
    const captured = a.requests.filter(isCall)[0]!;
    const before = a.executed.length;
    assert.deepEqual(await present(a.url, captured, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }, ''), {
      status: 401,
      code: 'ERR_TOKEN_MISSING',
    });
    assert.equal((await present(a.url, captured, captured.body, 'Bearer client-token')).code, 'ERR_TOKEN_INVALID');
    assert.equal(a.executed.length, before);
  });
});
