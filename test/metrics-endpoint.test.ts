/**
 * GET /metrics: only with the admin token, behind the same guard as /admin/status; absent without
 * an admin token or with `metrics: { enabled: false }`. The counters that come from records the
 * stages write (failed authentications) and from the chained audit log (commit time) move.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import type { RunningGateway } from '../src/gateway.js';
import { ADMIN_TOKEN, ADMIN_YAML } from './support/admin-status.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';
import { type LocalIssuer, localIssuer } from './support/local-issuer.js';
import { tempHome } from './support/temp-home.js';

async function scrape(gateway: RunningGateway, authorization?: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(new URL('/metrics', gateway.url), { headers: authorization ? { authorization } : {} });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The value of one sample line (`name{labels} value`) in the exposition text; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics with an admin token, real authentication and the chained audit log', () => {
  const home = tempHome('toolgate-metrics-');
  let crm: CrmServerHandle;
  let issuer: LocalIssuer;
  let gateway: RunningGateway;

  before(async () => {
    crm = await startCrmServer({ port: 0 });
    issuer = await localIssuer(home.path);
    gateway = await gatewayWith(`${issuer.authYaml}${ADMIN_YAML}upstreams:\n  - id: crm\n    url: ${crm.url}\n`);
  });
  after(async () => {
    await gateway?.close();
    await crm?.close();
    home.remove();
  });

  test('without the admin token, or with another one, /metrics answers 401 and shows nothing', async () => {
    for (const authorization of [undefined, 'Bearer not-the-admin-token-but-long-enough-0123456789', `Basic ${ADMIN_TOKEN}`]) {
      const r = await scrape(gateway, authorization);
      assert.equal(r.status, 401, `${authorization ?? 'no header'}: ${r.text}`);
      assert.doesNotMatch(r.text, /toolgate_/);
    }
  });

  test('with the admin token it answers the Prometheus text format', async () => {
    const r = await scrape(gateway, `Bearer ${ADMIN_TOKEN}`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /^# TYPE toolgate_calls_total counter$/m);
    assert.equal(sample(r.text, 'toolgate_upstream_up{upstream="crm"}'), 1);
  });

  test('an expired token is counted under its error code ERR_TOKEN_EXPIRED', async () => {
    const series = 'toolgate_auth_failures_total{reason="ERR_TOKEN_EXPIRED"}';
    const before = sample((await scrape(gateway, `Bearer ${ADMIN_TOKEN}`)).text, series) ?? 0;
    const expired = await issuer.sign({ aud: gateway.url, iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 60 });
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${expired}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    await res.text();
    assert.equal(res.status, 401);
    assert.equal(sample((await scrape(gateway, `Bearer ${ADMIN_TOKEN}`)).text, series), before + 1);
  });

  test('a call by an SDK client with a valid token: counted as allowed and ok, its audit commits timed', async () => {
    const client = new Client({ name: 'metrics-endpoint-test', version: '1' });
    const token = await issuer.token(gateway.url, 'crm.read');
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      const r = await client.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'a' } });
      assert.notEqual(r.isError, true, JSON.stringify(r));
      const text = (await scrape(gateway, `Bearer ${ADMIN_TOKEN}`)).text;
      assert.equal(sample(text, 'toolgate_calls_total{upstream="crm",tool="search_contacts",verdict="allow",outcome="ok"}'), 1);
      assert.equal(sample(text, 'toolgate_sessions_open'), 1);
      const commits = sample(text, 'toolgate_audit_commit_seconds_count');
      assert.ok(commits !== undefined && commits >= 1, `audit commits timed: ${commits}`);
      assert.ok(sample(text, 'toolgate_stage_duration_seconds_count{stage="authenticate"}')! >= 2, 'each authentication is timed');
      assert.equal(sample(text, 'toolgate_audit_queue_depth'), 0);
    } finally {
      await client.close();
    }
  });

  test('a malformed traceparent header (all-zero trace id) on a call is dropped and counted under field="traceparent"', async () => {
    const series = 'toolgate_trace_context_dropped_total{field="traceparent"}';
    const before = sample((await scrape(gateway, `Bearer ${ADMIN_TOKEN}`)).text, series) ?? 0;
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${await issuer.token(gateway.url, 'crm.read')}` };
    const init = await fetch(gateway.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    await init.text();
    const session = init.headers.get('mcp-session-id')!;
    const list = await fetch(gateway.url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session, traceparent: '00-00000000000000000000000000000000-0000000000000001-01' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    await list.text();
    assert.equal(list.status, 200);
    assert.equal(sample((await scrape(gateway, `Bearer ${ADMIN_TOKEN}`)).text, series), before + 1);
  });
});

test('a refusal by a limit is counted under the limit: sessions_per_principal 1, a second initialize', async () => {
  const crm = await startCrmServer({ port: 0 });
  const gateway = await gatewayWith(`${ADMIN_YAML}limits:\n  sessions_per_principal: 1\nupstreams:\n  - id: crm\n    url: ${crm.url}\n`);
  try {
    const initialize = async (): Promise<number> => {
      const res = await fetch(gateway.url, {
        method: 'POST',
        headers: MCP_HEADERS,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'limit', version: '1' } },
        }),
      });
      await res.text();
      return res.status;
    };
    assert.equal(await initialize(), 200);
    assert.equal(await initialize(), 429);
    const text = (await scrape(gateway, `Bearer ${ADMIN_TOKEN}`)).text;
    assert.equal(sample(text, 'toolgate_limit_refusals_total{limit="sessions_per_principal"}'), 1);
  } finally {
    await gateway.close();
    await crm.close();
  }
});

describe('/metrics does not exist', () => {
  let crm: CrmServerHandle;
  before(async () => {
    crm = await startCrmServer({ port: 0 });
  });
  after(async () => {
    await crm?.close();
  });

  test('with metrics: { enabled: false }, even for the admin; nothing is measured', async () => {
    const gateway = await gatewayWith(`${ADMIN_YAML}metrics:\n  enabled: false\nupstreams:\n  - id: crm\n    url: ${crm.url}\n`);
    try {
      assert.equal(gateway.metrics, undefined);
      assert.equal((await scrape(gateway, `Bearer ${ADMIN_TOKEN}`)).status, 404);
    } finally {
      await gateway.close();
    }
  });

  test('without an admin token configured (metrics are still kept)', async () => {
    const gateway = await gatewayWith(`upstreams:\n  - id: crm\n    url: ${crm.url}\n`);
    try {
      assert.ok(gateway.metrics);
      assert.equal((await scrape(gateway, `Bearer ${ADMIN_TOKEN}`)).status, 404);
    } finally {
      await gateway.close();
    }
  });
});
