/**
 * Trace context and the instruction, from the client through toolgate to the upstream: an SDK v2
 * client speaking 2026-07-28 sends `traceparent` and `baggage` in `_meta`, an SDK v1 client
 * (2025-11-25) sends them as HTTP headers. Two upstreams record what they received: the example
 * CRM (SDK v2, 2026-07-28, verifying per-call tokens with @toolgate/verify) and a recording
 * SDK v1 server (2025-11-25, verifying too). Each sees the client's trace id (header and/or
 * `_meta`, as its era carries it) and the instruction (baggage and the verified token); a
 * malformed traceparent is dropped and counted; a baggage key outside the allow-list stays behind.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallVerifier } from '@toolgate/verify';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import type { RunningGateway } from '../src/gateway.js';
import { traceContextDropped } from '../src/mcp/trace-context.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { fixtureCommand } from './support/fixture-command.js';
import { gatewayWith } from './support/gateway.js';
import { type RecordedRequest, type RecordingUpstream, startRecordingUpstream } from './support/recording-upstream.js';
import { freePort } from './support/servers.js';
import { tempHome } from './support/temp-home.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const OTHER_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
/** All-zero trace id: well shaped, but W3C says invalid. */
const ZERO_TRACEPARENT = '00-00000000000000000000000000000000-00f067aa0ba902b7-01';

const state = tempHome('toolgate-trace-context-');
process.on('exit', () => state.remove());

let crm: CrmServerHandle;
let rec: RecordingUpstream;
let gateway: RunningGateway;

before(async () => {
  const port = await freePort();
  const jwksUrl = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  crm = await startCrmServer({ port: 0, verify: { jwksUrl, issuer: 'toolgate', replayFile: join(state.path, 'crm-used-jti') } });
  rec = await startRecordingUpstream();
  gateway = await gatewayWith(
    `listener:
  port: ${port}
credentials:
  keys: { ephemeral: true }
trace:
  instruction_keys: [instruction.id, task.id]
upstreams:
  - id: crm
    url: ${crm.url}
  - id: rec
    url: ${rec.url}
    credential: {}
`,
    { identity: acceptAnyBearerForTests({ agent: 'sales-bot', user: 'alice' }) },
  );
  rec.setVerifier(new CallVerifier({ replay: 'memory', jwksUrl, audience: rec.url, issuer: 'toolgate' }));
});

after(async () => {
  await gateway?.close();
  await crm?.close();
  await rec?.close();
});

async function modernClient(headers: Record<string, string> = {}): Promise<ClientV2> {
  const client = new ClientV2({ name: 'trace-modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new TransportV2(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer client', ...headers } } }));
  assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
  return client;
}

async function legacyClient(headers: Record<string, string>): Promise<ClientV1> {
  const client = new ClientV1({ name: 'trace-legacy', version: '1' });
  const transport = new TransportV1(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer client', ...headers } } });
  await client.connect(transport);
  assert.equal(transport.protocolVersion, '2025-11-25');
  return client;
}

/** The CRM's last tools/call: its _meta, the HTTP headers it came with, and its verified chain. */
function lastAtCrm() {
  const call = crm.receivedToolCalls().at(-1);
  const headers = crm.receivedHeaders().at(-1);
  const chain = crm.verifiedChains().at(-1);
  assert.ok(call && headers && chain, 'the CRM saw no verified call');
  return { meta: call.meta ?? {}, headers, chain };
}

/** The recording upstream's last tools/call: its HTTP request and its verified chain. */
function lastAtRec(): { request: RecordedRequest; meta: Record<string, unknown>; chain: NonNullable<RecordingUpstream['chains'][number]> } {
  const request = rec.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call').at(-1);
  const chain = rec.chains.at(-1);
  assert.ok(request && chain, 'the recording upstream saw no verified call');
  const meta = (request.body as { params: { _meta?: Record<string, unknown> } }).params._meta ?? {};
  return { request, meta, chain };
}

function text(result: unknown): string {
  return ((result as { content: Array<{ text?: string }> }).content ?? []).map((c) => c.text ?? '').join('\n');
}

describe('trace context from a 2026-07-28 client (SDK v2), in _meta', () => {
  test('the 2026-07-28 CRM gets the same traceparent in _meta and header, the instruction in baggage and in its verified token; an unlisted baggage key stays behind', async () => {
    const client = await modernClient();
    try {
      const result = await client.callTool({
        name: 'crm__search_contacts',
        arguments: { tenant: 'acme', query: 'a' },
        _meta: { traceparent: TRACEPARENT, tracestate: 'vendor=abc', baggage: 'instruction.id=ins-42,user.secret=s3cr3t;prop=1' },
      });
      assert.notEqual(result.isError, true, text(result));
      const { meta, headers, chain } = lastAtCrm();
      assert.equal(meta.traceparent, TRACEPARENT, 'the trace is passed on unchanged in _meta');
      assert.equal(meta.tracestate, 'vendor=abc');
      assert.equal(meta.baggage, 'instruction.id=ins-42', 'only allow-listed baggage is passed on');
      assert.equal(headers.traceparent, TRACEPARENT, 'an HTTP upstream also gets the header');
      assert.equal(headers.baggage, 'instruction.id=ins-42');
      assert.ok(!JSON.stringify({ meta, headers }).includes('s3cr3t'), 'a baggage key outside the allow-list reached the upstream');
      assert.equal(chain.traceId, TRACE_ID);
      assert.deepEqual(chain.instruction, { 'instruction.id': 'ins-42' });
    } finally {
      await client.close();
    }
  });

  test('a 2025-11-25 upstream gets them as headers (not in _meta); an allow-listed _meta key is the instruction too', async () => {
    const client = await modernClient();
    try {
      const result = await client.callTool({ name: 'rec__echo', arguments: { text: 'hi' }, _meta: { traceparent: TRACEPARENT, 'task.id': 'task 7', 'job.id': 'not-listed' } });
      assert.notEqual(result.isError, true, text(result));
      const { request, meta, chain } = lastAtRec();
      assert.equal(request.headers.traceparent, TRACEPARENT);
      assert.equal(request.headers.baggage, 'task.id=task%207');
      assert.equal(meta.traceparent, undefined, 'trace keys in _meta of a 2025 HTTP upstream');
      assert.equal(chain.traceId, TRACE_ID);
      assert.deepEqual(chain.instruction, { 'task.id': 'task 7' });
    } finally {
      await client.close();
    }
  });

  test("_meta wins over the client's headers in 2026-07-28", async () => {
    const client = await modernClient({ traceparent: OTHER_TRACEPARENT });
    try {
      await client.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'b' }, _meta: { traceparent: TRACEPARENT } });
      const { meta, headers, chain } = lastAtCrm();
      assert.equal(meta.traceparent, TRACEPARENT);
      assert.equal(headers.traceparent, TRACEPARENT);
      assert.equal(chain.traceId, TRACE_ID);
    } finally {
      await client.close();
    }
  });

  test('a malformed traceparent in _meta is dropped and counted: the upstream gets none, the token has no trace id', async () => {
    const client = await modernClient();
    try {
      const before = traceContextDropped.traceparent;
      await client.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'c' }, _meta: { traceparent: ZERO_TRACEPARENT, baggage: 'instruction.id=ins-9' } });
      const { meta, headers, chain } = lastAtCrm();
      assert.equal(traceContextDropped.traceparent, before + 1);
      assert.equal(meta.traceparent, undefined, 'the malformed traceparent reached the upstream in _meta');
      assert.equal(headers.traceparent, undefined, 'the malformed traceparent reached the upstream as a header');
      assert.equal(chain.traceId, undefined);
      assert.deepEqual(chain.instruction, { 'instruction.id': 'ins-9' }, 'the instruction stands on its own');
    } finally {
      await client.close();
    }
  });
});

describe('trace context from a 2025-11-25 client (SDK v1), in HTTP headers', () => {
  test('the 2025 upstream gets the same traceparent header and the instruction, in baggage and in its verified token; the unlisted key stays behind', async () => {
    const client = await legacyClient({ traceparent: TRACEPARENT, tracestate: 'vendor=abc', baggage: 'instruction.id=ins-7, task.id=t%201, user.secret=s3cr3t' });
    try {
      const result = await client.callTool({ name: 'rec__echo', arguments: { text: 'hello' } });
      assert.notEqual(result.isError, true, text(result));
      const { request, chain } = lastAtRec();
      assert.equal(request.headers.traceparent, TRACEPARENT);
      assert.equal(request.headers.tracestate, 'vendor=abc');
      assert.equal(request.headers.baggage, 'instruction.id=ins-7,task.id=t%201');
      assert.ok(!request.rawHeaders.join('\n').includes('s3cr3t'), 'a baggage key outside the allow-list reached the upstream');
      assert.equal(chain.traceId, TRACE_ID);
      assert.deepEqual(chain.instruction, { 'instruction.id': 'ins-7', 'task.id': 't 1' });
    } finally {
      await client.close();
    }
  });

  test('the 2026-07-28 CRM gets the headers of a 2025 client in _meta as well as in headers', async () => {
    const client = await legacyClient({ traceparent: TRACEPARENT, baggage: 'instruction.id=ins-8' });
    try {
      await client.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'd' } });
      const { meta, headers, chain } = lastAtCrm();
      assert.equal(meta.traceparent, TRACEPARENT);
      assert.equal(meta.baggage, 'instruction.id=ins-8');
      assert.equal(headers.traceparent, TRACEPARENT);
      assert.deepEqual(chain.instruction, { 'instruction.id': 'ins-8' });
    } finally {
      await client.close();
    }
  });

  test('a malformed traceparent header is dropped and counted, and so is malformed baggage', async () => {
    const client = await legacyClient({ traceparent: `01-${TRACE_ID}-00f067aa0ba902b7`, baggage: 'instruction.id=ins%zz' });
    try {
      const before = { ...traceContextDropped };
      await client.callTool({ name: 'rec__echo', arguments: { text: 'bad' } });
      await client.callTool({ name: 'rec__echo', arguments: { text: 'bad again' } });
      const { request, chain } = lastAtRec();
      assert.equal(traceContextDropped.traceparent, before.traceparent + 2);
      assert.equal(traceContextDropped.baggage, before.baggage + 2);
      assert.equal(request.headers.traceparent, undefined, 'the malformed traceparent reached the upstream');
      assert.equal(request.headers.baggage, undefined);
      assert.equal(chain.traceId, undefined);
      assert.equal(chain.instruction, undefined);
    } finally {
      await client.close();
    }
  });
});

describe('trace context to a stdio upstream, which has no headers', () => {
  let stdioGateway: RunningGateway;
  before(async () => {
    const pipe = fixtureCommand('meta-stdio-server');
    stdioGateway = await gatewayWith(
      `credentials:
  keys: { ephemeral: true }
upstreams:
  - id: pipe
    command: ${JSON.stringify(pipe.command)}
    args: ${JSON.stringify(pipe.args)}
    credential: {}
`,
      { identity: acceptAnyBearerForTests({ agent: 'sales-bot', user: 'alice' }) },
    );
  });
  after(async () => {
    await stdioGateway?.close();
  });

  test('a 2025-11-25 client sends headers; the stdio upstream gets traceparent and allow-listed baggage in _meta, and the instruction in its token', async () => {
    const client = new ClientV1({ name: 'trace-stdio', version: '1' });
    const headers = { authorization: 'Bearer client', traceparent: TRACEPARENT, baggage: 'job.id=nightly-3,user.secret=s3cr3t' };
    await client.connect(new TransportV1(new URL(stdioGateway.url), { requestInit: { headers } }));
    try {
      const seen = JSON.parse(text(await client.callTool({ name: 'pipe__seen', arguments: {} }))) as { meta: Record<string, unknown>; claims?: Record<string, unknown> };
      assert.equal(seen.meta.traceparent, TRACEPARENT);
      assert.equal(seen.meta.baggage, 'job.id=nightly-3', 'default instruction keys: job.id passes, user.secret does not');
      assert.equal(seen.claims?.trace_id, TRACE_ID);
      assert.deepEqual(seen.claims?.instruction, { 'job.id': 'nightly-3' });
    } finally {
      await client.close();
    }
  });
});
