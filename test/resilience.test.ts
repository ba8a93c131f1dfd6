/**
 * Upstreams that are down, slow, broken or crash: the client always gets a JSON-RPC error naming
 * the upstream within its timeout, never a hang; the gateway keeps serving the others.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { StartupError } from '../src/gateway.js';
import { startProbeServer } from './fixtures/probe-server.js';
import { ADMIN_YAML, adminStatus } from './support/admin-status.js';
import { fixtureCommand } from './support/fixture-command.js';
import { gatewayWith } from './support/gateway.js';
import { freePort } from './support/servers.js';
import { standaloneStreamOpen } from './support/standalone-stream.js';
import { waitFor } from './support/wait-for.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function client(url: string): Promise<Client> {
  const c = new Client({ name: 'resilience', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  cleanups.push(() => c.close());
  return c;
}

function callError(result: unknown): string {
  const r = result as { isError?: boolean; content?: Array<{ text?: string }> };
  return r instanceof Error ? r.message : JSON.stringify(r);
}

/** A hand-written Streamable HTTP server that initializes correctly, then answers tools/call with HTML. */
async function garbageServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const msg = JSON.parse(body || '{}');
      if (msg.id === undefined) return void res.writeHead(202).end();
      const answer = (result: unknown): void => {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'garbage-1' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      };
      if (msg.method === 'initialize') return answer({ protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'garbage', version: '1' } });
      if (msg.method === 'tools/list') return answer({ tools: [{ name: 'garble', inputSchema: { type: 'object' } }] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>502 Bad Gateway</html>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`, server };
}

describe('upstream faults', () => {
  test('an upstream that is down at start does not block the others; /readyz is 503 and /admin/status names it', async () => {
    const probe = await startProbeServer();
    cleanups.push(() => probe.close());
    const deadPort = await freePort();
    const gw = await gatewayWith(`upstreams:
  - id: probe
    url: ${probe.url}
  - id: dead
    url: http://127.0.0.1:${deadPort}/mcp
    timeouts: { connect_ms: 500 }
${ADMIN_YAML}`);
    cleanups.push(() => gw.close());
    const ready = await fetch(gw.url.replace(/\/mcp$/, '/readyz'));
    assert.equal(ready.status, 503);
    await ready.text();
    const body = await adminStatus<{ upstreams: Record<string, { state: string; lastError?: string }> }>(gw.url);
    assert.equal(body.upstreams.dead!.state, 'down');
    assert.match(body.upstreams.dead!.lastError ?? '', /dead/);
    assert.equal(body.upstreams.probe!.state, 'ready');
    const c = await client(gw.url);
    const { tools } = await c.listTools();
    assert.ok(tools.some((t) => t.name === 'probe__count'));
    assert.ok(!tools.some((t) => t.name.startsWith('dead__')));
  });

  test('a slow upstream: tools/call past request_ms (400) → error naming the upstream, and the upstream is told to cancel', async () => {
    const probe = await startProbeServer();
    cleanups.push(() => probe.close());
    const gw = await gatewayWith(`upstreams:
  - id: slow
    url: ${probe.url}
    timeouts: { request_ms: 400 }
`);
    cleanups.push(() => gw.close());
    const c = await client(gw.url);
    const started = Date.now();
    const err = await c.callTool({ name: 'slow__wait_for_cancel', arguments: { tag: 'slow-1' } }).catch((e: Error) => e);
    assert.ok(err instanceof Error, 'the call fails');
    assert.match(err.message, /upstream slow did not answer tools\/call within 400 ms/);
    assert.ok(Date.now() - started < 5000, 'well before the client timeout');
    await waitFor(() => probe.log.cancelled.includes('slow-1'), { what: 'the upstream to see notifications/cancelled' });
    assert.ok(probe.log.cancelled.includes('slow-1'), 'the upstream saw notifications/cancelled');
  });

  test('an upstream answering HTML instead of JSON-RPC → error naming the upstream', async () => {
    const g = await garbageServer();
    const gw = await gatewayWith(`upstreams:
  - id: garbage
    url: ${g.url}
`);
    cleanups.push(() => gw.close());
    const c = await client(gw.url);
    const err = await c.callTool({ name: 'garbage__garble', arguments: {} }).catch((e: Error) => e);
    assert.ok(err instanceof Error, callError(err));
    assert.match(err.message, /upstream garbage/);
  });

  test('a stdio upstream that exits: the call fails naming it, /admin/status shows it, and it is restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-crashy-'));
    const startsFile = join(dir, 'starts');
    const cmd = fixtureCommand('crashy-stdio-server');
    const gw = await gatewayWith(`upstreams:
  - id: crashy
    command: ${JSON.stringify(cmd.command)}
    args: ${JSON.stringify(cmd.args)}
    env: { STARTS_FILE: ${JSON.stringify(startsFile)} }
${ADMIN_YAML}`);
    cleanups.push(() => gw.close());
    const c = await client(gw.url);
    const firstPid = (await c.callTool({ name: 'crashy__alive', arguments: {} })) as { content: Array<{ text: string }> };
    const err = await c.callTool({ name: 'crashy__exit_now', arguments: { code: 3 } }).catch((e: Error) => e);
    assert.ok(err instanceof Error);
    assert.match(err.message, /upstream crashy/);
    // Back within the first backoff step.
    const again = (await waitFor(() => c.callTool({ name: 'crashy__alive', arguments: {} }), { what: 'the restarted upstream to answer', timeoutMs: 15_000, intervalMs: 100 })) as {
      content: Array<{ text: string }>;
    };
    assert.ok(again, 'the upstream answers again after its restart');
    assert.notEqual(again.content[0]!.text, firstPid.content[0]!.text, 'a new process');
    assert.equal(readFileSync(startsFile, 'utf8').trim().split('\n').length, 2);
    const body = await adminStatus<{ upstreams: Record<string, { restarts: number }> }>(gw.url);
    assert.equal(body.upstreams.crashy!.restarts, 1);
  });
});

describe('catalog', () => {
  test('two upstreams offering the same tool name with no prefix → start-up error naming both', async () => {
    const a = await startProbeServer();
    const b = await startProbeServer();
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const err = await gatewayWith(`upstreams:
  - id: first
    url: ${a.url}
    prefix: ""
  - id: second
    url: ${b.url}
    prefix: ""
`).catch((e: Error) => e);
    assert.ok(err instanceof StartupError);
    assert.equal(err.code, 'ERR_NAME_COLLISION');
    assert.match(err.message, /upstream first and upstream second/);
  });

  test('the same collision resolved by a prefix starts fine', async () => {
    const a = await startProbeServer();
    const b = await startProbeServer();
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const gw = await gatewayWith(`upstreams:
  - id: first
    url: ${a.url}
    prefix: ""
  - id: second
    url: ${b.url}
`);
    cleanups.push(() => gw.close());
    const names = (await (await client(gw.url)).listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('count') && names.includes('second__count'));
  });

  test("an upstream's tools/list_changed is re-listed and re-announced downstream", async () => {
    const probe = await startProbeServer();
    cleanups.push(() => probe.close());
    const gw = await gatewayWith(`upstreams:
  - id: probe
    url: ${probe.url}
`);
    cleanups.push(() => gw.close());
    const c = await client(gw.url);
    let announced = 0;
    c.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      announced++;
    });
    await waitFor(() => standaloneStreamOpen(gw, c), { what: "the client's GET stream to open (it opens after initialize)" });
    await c.callTool({ name: 'probe__add_tool', arguments: { name: 'fresh_tool' } });
    await waitFor(() => announced > 0, { what: 'tools/list_changed to reach the client' });
    assert.ok(announced > 0, 'the client was told the list changed');
    const names = (await c.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('probe__fresh_tool'), names.join(', '));
  });
});
