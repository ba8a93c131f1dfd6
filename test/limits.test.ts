/**
 * Limits per principal (`limits:`): open sessions, requests in flight and response streams, each
 * refused with an error naming the limit and an audit record (`kind: 'limit'`), the upstream
 * never reached. Real parts: an OAuth authorization server (oidc-provider) issues the tokens, a
 * probe upstream (SDK) counts what reaches it, clients are raw HTTP or the SDK client.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { LIMIT_DEFAULTS } from '../src/config/limits.js';
import { parseConfig } from '../src/config/load.js';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import type { AuditEvent } from '../src/pipeline/stages.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { type AuthorizationServer, startAuthorizationServer } from './support/authorization-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';
import { waitFor } from './support/wait-for.js';

let as: AuthorizationServer;
let probe: ProbeServer;
let gateway: RunningGateway;
const audit = new MemoryAuditSink(20_000);

before(async () => {
  as = await startAuthorizationServer([
    { client_id: 'sales-bot', client_secret: 'sales-secret', scope: 'crm.read' },
    { client_id: 'report-bot', client_secret: 'report-secret', scope: 'crm.read' },
    { client_id: 'ops-bot', client_secret: 'ops-secret', scope: 'crm.read' },
    { client_id: 'stream-bot', client_secret: 'stream-secret', scope: 'crm.read' },
  ]);
  probe = await startProbeServer();
  gateway = await gatewayWith(
    `auth:
  issuers:
    - issuer: ${as.issuer}
limits:
  sessions_per_principal: 50
  calls_per_principal: 4
  streams_per_principal: 3
upstreams:
  - id: crm
    url: ${probe.url}
`,
    { audit },
  );
});

after(async () => {
  await gateway?.close();
  await probe?.close();
  await as?.close();
});

function limitEvents(limit: string, agent: string): AuditEvent[] {
  return audit.events.filter((e) => e.kind === 'limit' && e.detail?.limit === limit && e.principal?.agent === agent);
}

function initialize(token: string): Promise<Response> {
  return fetch(gateway.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'limits', version: '1' } },
    }),
  });
}

async function session(token: string): Promise<string> {
  const res = await initialize(token);
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

test('5,000 initializes from one token with sessions_per_principal 50: 50 open, 4,950 answered 429 naming the limit and audited, the upstream never reached; another principal still gets one; DELETE frees a slot', {
  timeout: 120_000,
}, async () => {
  const token = await as.token('sales-bot', gateway.url);
  const upstreamRequests = probe.log.headers.length;
  const opened: string[] = [];
  const refusals: Array<{ status: number; body: { error?: { code: number; message: string; data?: { limit: string; max: number } } } }> = [];
  let next = 0;
  // Ten at a time: bounded in count and time, and the cap holds under concurrency too.
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < 5000) {
        next++;
        const res = await initialize(token);
        if (res.status === 200) {
          opened.push(res.headers.get('mcp-session-id')!);
          await res.text();
        } else refusals.push({ status: res.status, body: (await res.json()) as never });
      }
    }),
  );
  assert.equal(opened.length, 50);
  assert.equal(refusals.length, 4950);
  for (const r of refusals) {
    assert.equal(r.status, 429);
    assert.equal(r.body.error?.code, -32029);
    assert.match(r.body.error?.message ?? '', /sessions_per_principal/);
    assert.deepEqual(r.body.error?.data, { limit: 'sessions_per_principal', max: 50 });
  }
  assert.equal(gateway.sessions.size, 50);
  assert.equal(probe.log.headers.length, upstreamRequests, 'no refused initialize reached the upstream');
  const records = limitEvents('sessions_per_principal', 'sales-bot');
  assert.equal(records.length, 4950);
  assert.equal(records[0]!.detail?.outcome, 'limit');
  assert.match(String(records[0]!.detail?.reason), /sessions_per_principal \(50\) reached/);

  // The cap is per principal: another token's principal is not affected.
  await session(await as.token('report-bot', gateway.url));

  // DELETE frees one slot, and only one.
  const del = await fetch(gateway.url, { method: 'DELETE', headers: { 'mcp-session-id': opened[0]!, authorization: `Bearer ${token}` } });
  assert.equal(del.status, 200);
  await session(token);
  assert.equal((await initialize(token)).status, 429);
});

test('calls_per_principal 4: a fifth tools/call while four wait is answered -32029 naming the limit, audited and not forwarded; a cancelled call frees its slot', {
  timeout: 60_000,
}, async () => {
  const token = await as.token('ops-bot', gateway.url);
  const client = new Client({ name: 'ops', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  const aborts = ['w1', 'w2', 'w3', 'w4'].map(() => new AbortController());
  const waiting = aborts.map((a, i) => client.callTool({ name: 'crm__wait_for_cancel', arguments: { tag: `ops-${i}` } }, undefined, { signal: a.signal }).catch((e: unknown) => e));
  await waitFor(() => probe.log.calls.filter((c) => String((c.args as { tag: string }).tag).startsWith('ops-')).length === 4, { what: 'four calls waiting upstream' });

  const fifth = await client.callTool({ name: 'crm__wait_for_cancel', arguments: { tag: 'ops-fifth' } }).catch((e: unknown) => e);
  assert.ok(fifth instanceof McpError, `the fifth call failed: ${String(fifth)}`);
  assert.equal(fifth.code, -32029);
  assert.match(fifth.message, /calls_per_principal/);
  assert.equal(
    probe.log.calls.some((c) => (c.args as { tag: string }).tag === 'ops-fifth'),
    false,
    'the refused call never reached the upstream',
  );
  const record = limitEvents('calls_per_principal', 'ops-bot').at(-1);
  assert.ok(record, 'the refusal is audited');
  assert.equal(record.detail?.method, 'tools/call');
  assert.equal(record.detail?.outcome, 'limit');

  // Cancelling one frees its slot: the next call goes through.
  aborts[0]!.abort('done waiting');
  await waitFor(() => probe.log.cancelled.includes('ops-0'), { what: 'the upstream to see the cancellation' });
  const ok = await waitFor(
    async () => {
      const r = await client.callTool({ name: 'crm__headers', arguments: {} }).catch(() => undefined);
      return r?.isError === false || (r !== undefined && r.isError === undefined) ? r : undefined;
    },
    { what: 'a call once a slot is free' },
  );
  assert.ok(ok);
  for (const a of aborts) a.abort('test over');
  await Promise.all(waiting);
  await client.close();
});

test('streams_per_principal 3: a fourth GET stream is answered 429 naming the limit, a call that would open a stream gets -32029, both audited; DELETE frees a stream', {
  timeout: 60_000,
}, async () => {
  const token = await as.token('stream-bot', gateway.url);
  const auth = { authorization: `Bearer ${token}` };
  const sids = [await session(token), await session(token), await session(token), await session(token)];
  const streams = new AbortController();
  const get = (sid: string): Promise<Response> => fetch(gateway.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid, ...auth }, signal: streams.signal });
  for (const sid of sids.slice(0, 3)) assert.equal((await get(sid)).status, 200);
  const fourth = await get(sids[3]!);
  assert.equal(fourth.status, 429);
  const body = (await fourth.json()) as { error: { code: number; message: string; data: unknown } };
  assert.equal(body.error.code, -32029);
  assert.deepEqual(body.error.data, { limit: 'streams_per_principal', max: 3 });
  assert.equal(limitEvents('streams_per_principal', 'stream-bot').at(-1)?.detail?.method, 'GET');

  // A call whose answer would become a stream (progress) is refused the same way, and cancelled upstream.
  const call = await fetch(gateway.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...auth, 'mcp-session-id': sids[3]! },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 'crm__count', arguments: { tag: 'streamed', steps: 3, delay_ms: 1 }, _meta: { progressToken: 't' } },
    }),
  });
  const answer = (await call.json()) as { id: number; error: { code: number; data: unknown } };
  assert.equal(answer.id, 9);
  assert.equal(answer.error.code, -32029);
  assert.deepEqual(answer.error.data, { limit: 'streams_per_principal', max: 3 });
  assert.equal(limitEvents('streams_per_principal', 'stream-bot').at(-1)?.detail?.method, 'tools/call');

  // Ending a session frees its stream.
  assert.equal((await fetch(gateway.url, { method: 'DELETE', headers: { 'mcp-session-id': sids[0]!, ...auth } })).status, 200);
  assert.equal((await get(sids[3]!)).status, 200);
  streams.abort();
});

test('an idle session that expires frees its slot: with sessions_per_principal 2 and session_idle_seconds 1, a third session is refused, then accepted once one expired', {
  timeout: 30_000,
}, async () => {
  const idle = await gatewayWith(`listener:\n  port: 0\n  session_idle_seconds: 1\nlimits:\n  sessions_per_principal: 2\nupstreams:\n  - id: crm\n    url: ${probe.url}\n`);
  try {
    const open = async (): Promise<number> => {
      const res = await fetch(idle.url, {
        method: 'POST',
        headers: MCP_HEADERS,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'idle', version: '1' } },
        }),
      });
      await res.text();
      return res.status;
    };
    assert.equal(await open(), 200);
    assert.equal(await open(), 200);
    assert.equal(await open(), 429);
    await waitFor(async () => (await open()) === 200, { what: 'a slot freed by idle expiry', timeoutMs: 10_000, intervalMs: 250 });
  } finally {
    await idle.close();
  }
});

test('limits: defaults apply without the section (100 sessions, 64 calls, 128 streams, 1 MiB per stream, 64 MiB in all); bad values are refused naming the key', () => {
  const minimal = 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:7421/mcp\n';
  assert.equal(parseConfig(minimal, 'config.yaml', {}).limits, undefined);
  assert.deepEqual(LIMIT_DEFAULTS, {
    sessionsPerPrincipal: 100,
    callsPerPrincipal: 64,
    streamsPerPrincipal: 128,
    streamBufferBytes: 1024 * 1024,
    totalStreamBufferBytes: 64 * 1024 * 1024,
  });
  const partial = parseConfig(`limits:\n  sessions_per_principal: 5\n${minimal}`, 'config.yaml', {}).limits;
  assert.deepEqual(partial, { ...LIMIT_DEFAULTS, sessionsPerPrincipal: 5 });
  const bad = (yaml: string): string => {
    try {
      parseConfig(`limits:\n${yaml}\n${minimal}`, 'config.yaml', {});
    } catch (err) {
      return (err as Error).message;
    }
    return assert.fail(`accepted: ${yaml}`);
  };
  assert.match(bad('  sessions_per_principal: 0'), /limits\.sessions_per_principal: expected a positive number of sessions/);
  assert.match(bad('  calls_per_principal: many'), /limits\.calls_per_principal: expected a positive number of calls/);
  assert.match(bad('  stream_buffer_bytes: 1000'), /limits\.stream_buffer_bytes: expected a number of bytes of at least 65536/);
  assert.match(
    bad('  stream_buffer_bytes: 2000000\n  total_stream_buffer_bytes: 1000000'),
    /limits\.total_stream_buffer_bytes: expected total_stream_buffer_bytes to be at least stream_buffer_bytes/,
  );
  assert.match(bad('  session_cap: 3'), /limits/);
});
