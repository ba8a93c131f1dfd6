/**
 * Upstream session recovery: an upstream that restarted (or forgot our session) refuses the old
 * session id; the UpstreamClient starts a new session at once and sends the refused request again,
 * once. Driven against a real server-everything process that is really killed and restarted, and
 * against SDK v1 servers whose session store is really emptied.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { after, describe, test } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import type { UpstreamConfig } from '../src/config/types.js';
import type { JsonRpcMessage, JsonRpcResponse } from '../src/protocol/jsonrpc.js';
import { UpstreamClient, type UpstreamEvents, type UpstreamState } from '../src/upstream/client.js';
import { HttpUpstreamTransport } from '../src/upstream/transport/http.js';
import { freePort, startEverythingHttp } from './support/servers.js';
import { waitFor } from './support/wait-for.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** server-everything on a given port; `stop` kills it (a crash, not a graceful shutdown). */
async function startEverything(port: number): Promise<{ stop: () => Promise<void> }> {
  const server = await startEverythingHttp(port);
  cleanups.push(server.crash);
  return { stop: server.crash };
}

function configFor(id: string, url: string): UpstreamConfig {
  return {
    id,
    transport: { type: 'http', url, headers: {} },
    prefix: '',
    protocol: '2025-11-25',
    timeouts: { connectMs: 5000, requestMs: 15_000 },
  };
}

/** An UpstreamClient over HttpUpstreamTransport, recording its transports and state changes. */
async function startClient(id: string, url: string): Promise<{ client: UpstreamClient; transports: HttpUpstreamTransport[]; states: UpstreamState[]; unrouted: string[] }> {
  const transports: HttpUpstreamTransport[] = [];
  const states: UpstreamState[] = [];
  const unrouted: string[] = [];
  const events: UpstreamEvents = {
    listChanged: () => undefined,
    resourceUpdated: () => undefined,
    unrouted: (message) => void unrouted.push('method' in message ? message.method : 'response'),
    stateChanged: (state) => states.push(state),
  };
  const client = new UpstreamClient(
    configFor(id, url),
    () => {
      const transport = new HttpUpstreamTransport(id, { url, connectTimeoutMs: 2000 });
      transports.push(transport);
      return transport;
    },
    events,
  );
  cleanups.push(() => client.close());
  await client.start();
  assert.equal(client.state, 'ready', `${id} did not start: ${client.lastError}`);
  return { client, transports, states, unrouted };
}

let nextId = 1;
function callTool(client: UpstreamClient, name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<JsonRpcResponse> {
  return client.forward({ jsonrpc: '2.0', id: `call-${nextId++}`, method: 'tools/call', params: { name, arguments: args } }, { signal });
}

function echoed(response: JsonRpcResponse): string {
  assert.ok('result' in response, `expected a result, got ${JSON.stringify(response)}`);
  return (response.result.content as Array<{ text: string }>)[0]!.text;
}

describe('UpstreamClient recovers when a real server-everything restarts (HTTP 400 "No valid session ID")', () => {
  test('the call after the restart succeeds: one re-initialization, a new session, no "down" in between', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    let server = await startEverything(port);
    const { client, transports, states } = await startClient('everything', url);
    assert.equal(echoed(await callTool(client, 'echo', { message: 'before' })), 'Echo: before');
    const firstSession = transports[0]!.sessionId;
    assert.ok(firstSession);

    await server.stop();
    server = await startEverything(port);

    const after = await callTool(client, 'echo', { message: 'after' });
    assert.equal(echoed(after), 'Echo: after');
    assert.equal(client.restarts, 1, 're-initialized exactly once');
    assert.equal(transports.length, 2, 'one new transport for the new session');
    assert.ok(transports[1]!.sessionId && transports[1]!.sessionId !== firstSession, 'a new session id');
    assert.deepEqual(states, ['starting', 'ready', 'starting', 'ready']);
    assert.equal(client.state, 'ready');

    // The new session is an ordinary one: more calls go through without further handshakes.
    assert.equal(echoed(await callTool(client, 'echo', { message: 'again' })), 'Echo: again');
    assert.equal(client.restarts, 1);
    await server.stop();
  });

  test('with no call in flight, the standalone GET stream notices the restart and the client recovers by itself', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    let server = await startEverything(port);
    const { client, transports, unrouted } = await startClient('everything', url);
    // server-everything asks for roots on the standalone stream shortly after initialize: once
    // that request arrives (and is refused, being tied to no call) the stream is open.
    await waitFor(() => unrouted.includes('roots/list'), { what: 'the event stream to open', timeoutMs: 10_000 });

    await server.stop();
    server = await startEverything(port);

    // Reconnecting its GET stream with the old session id gets 400: that alone triggers recovery.
    await waitFor(() => client.restarts === 1 && client.state === 'ready', { what: 're-initialization after the restart', timeoutMs: 10_000 });
    assert.equal(transports.length, 2);
    assert.equal(echoed(await callTool(client, 'echo', { message: 'hello' })), 'Echo: hello');
    assert.equal(client.restarts, 1);
    await server.stop();
  });

  test('a call in flight when the server dies gets an error naming the upstream (it may have run), not a retry', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    let server = await startEverything(port);
    const { client } = await startClient('everything', url);
    const started = Date.now();
    const progress: string[] = [];
    const inFlight = client.forward(
      {
        jsonrpc: '2.0',
        id: 'long',
        method: 'tools/call',
        params: { name: 'trigger-long-running-operation', arguments: { duration: 4, steps: 4 }, _meta: { progressToken: 'p' } },
      },
      {
        sink: {
          notify: (n) => void progress.push(n.method),
          // server-everything asks for roots 350 ms after initialize, i.e. while this call is in flight.
          request: (r) => Promise.resolve({ jsonrpc: '2.0', id: r.id, error: { code: -32601, message: `${r.method}: this client serves no requests` } }),
        },
      },
    );
    // The first progress notification proves the server is running the call (one step is 1 s).
    await waitFor(() => progress.length > 0, { what: 'the first progress of the long-running call' });
    await server.stop();
    server = await startEverything(port);

    const answer = await inFlight;
    assert.ok('error' in answer, `expected an error, got ${JSON.stringify(answer)}`);
    assert.equal(answer.error.code, -32010);
    assert.match(answer.error.message, /^upstream everything (lost the session before answering|closed the stream before answering)/);
    assert.ok(Date.now() - started < 10_000, 'well before the request timeout');
    assert.equal(echoed(await callTool(client, 'echo', { message: 'next' })), 'Echo: next');
    assert.ok(client.restarts <= 1, `restarts: ${client.restarts}`);
    await server.stop();
  });
});

/** An SDK v1 server with the usual session map; `forget()` empties it, as an expiry or a restart would. */
async function startSdkServer(options: { unknownSession: 'spec-404' | 'single-transport' }): Promise<{ url: string; forget: () => void; initializes: () => number }> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let initializes = 0;
  let single: StreamableHTTPServerTransport | undefined;
  const build = async (): Promise<StreamableHTTPServerTransport> => {
    const server = new McpServer({ name: 'sdk-fixture', version: '1.0.0' });
    server.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void sessions.set(id, transport) });
    await server.connect(transport);
    return transport;
  };
  const httpServer = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const parsed = body === '' ? undefined : (JSON.parse(body) as JsonRpcMessage);
    if (parsed !== undefined && 'method' in parsed && parsed.method === 'initialize') initializes++;
    const sid = req.headers['mcp-session-id'];
    let transport: StreamableHTTPServerTransport | undefined;
    if (options.unknownSession === 'single-transport') {
      // One transport for the whole process, as in the SDK's simplest examples; a restart makes a
      // new one, which answers the old session id with 400 "Bad Request: Server not initialized".
      single ??= await build();
      transport = single;
    } else if (typeof sid === 'string') {
      transport = sessions.get(sid);
      if (!transport) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return;
      }
    } else {
      transport = await build();
    }
    await transport.handleRequest(req, res, parsed);
  });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const { port } = httpServer.address() as net.AddressInfo;
  cleanups.push(async () => {
    httpServer.closeAllConnections();
    httpServer.close();
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    forget: () => {
      for (const t of sessions.values()) void t.close();
      sessions.clear();
      single = undefined;
    },
    initializes: () => initializes,
  };
}

describe('UpstreamClient recovers from SDK v1 session refusals', () => {
  test('404 "Session not found" (the spec\'s answer): recovered and retried, and again after a second loss', async () => {
    const server = await startSdkServer({ unknownSession: 'spec-404' });
    const { client, transports } = await startClient('sdk', server.url);
    assert.equal(echoed(await callTool(client, 'echo', { message: 'one' })), 'Echo: one');
    server.forget();
    assert.equal(echoed(await callTool(client, 'echo', { message: 'two' })), 'Echo: two');
    assert.equal(client.restarts, 1);
    // The recovered session had a request accepted, so a later loss is recovered as well.
    server.forget();
    assert.equal(echoed(await callTool(client, 'echo', { message: 'three' })), 'Echo: three');
    assert.equal(client.restarts, 2);
    assert.equal(server.initializes(), 3);
    assert.equal(transports.length, 3);
  });

  test('400 "Bad Request: Server not initialized" from a re-created single-session transport: recovered and retried', async () => {
    const server = await startSdkServer({ unknownSession: 'single-transport' });
    const { client } = await startClient('sdk', server.url);
    assert.equal(echoed(await callTool(client, 'echo', { message: 'one' })), 'Echo: one');
    server.forget();
    assert.equal(echoed(await callTool(client, 'echo', { message: 'two' })), 'Echo: two');
    assert.equal(client.restarts, 1);
    assert.equal(server.initializes(), 2);
  });

  test('concurrent calls refused together share one re-initialization and all succeed', async () => {
    const server = await startSdkServer({ unknownSession: 'spec-404' });
    const { client } = await startClient('sdk', server.url);
    server.forget();
    const answers = await Promise.all(['a', 'b', 'c', 'd'].map((m) => callTool(client, 'echo', { message: m })));
    assert.deepEqual(answers.map(echoed), ['Echo: a', 'Echo: b', 'Echo: c', 'Echo: d']);
    assert.equal(client.restarts, 1);
    assert.equal(server.initializes(), 2);
  });
});

describe('a 400 that is not about the session', () => {
  test('an upstream answering 400 to every request on a session costs one extra handshake, never a loop', async () => {
    // Hand-written: no real server refuses every request of a session it just created, so this
    // fault has to be staged. initialize and notifications succeed; every request with a session id is refused.
    let initializes = 0;
    let refused = 0;
    const server = http.createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const message = JSON.parse(body) as { id?: unknown; method?: string };
      if (message.method === 'initialize') {
        initializes++;
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': `s-${initializes}` });
        res.end(
          JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'picky', version: '1' } } }),
        );
        return;
      }
      if (message.id === undefined) return void res.writeHead(202).end();
      refused++;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32600, message: 'Bad Request: tenant header missing' } }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      server.closeAllConnections();
      server.close();
    });
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/mcp`;
    const { client } = await startClient('picky', url);

    for (let i = 0; i < 3; i++) {
      const answer = await callTool(client, 'anything', {});
      assert.ok('error' in answer, JSON.stringify(answer));
      assert.equal(answer.error.code, -32010);
      assert.match(answer.error.message, /^upstream picky failed: upstream picky: answered HTTP 400 to request \d+ \(Bad Request: tenant header missing\)/);
      assert.deepEqual(answer.error.data, { upstream: 'picky', code: 'ERR_UPSTREAM_SESSION_EXPIRED' });
    }
    assert.equal(initializes, 2, 'the first refusal re-initialized once; the refusals on the new session did not');
    assert.equal(refused, 4, 'the first call was sent twice, the others once');
    assert.equal(client.restarts, 1);
    assert.equal(client.state, 'ready');
  });
});
