import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { request } from 'undici';
import { z } from 'zod';
import type { JsonRpcId, JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import { HttpUpstreamTransport } from '../src/upstream/transport/http.js';
import { type SseEvent, SseParser } from '../src/upstream/transport/sse.js';
import { StdioUpstreamTransport } from '../src/upstream/transport/stdio.js';
import { UpstreamTransportError } from '../src/upstream/transport/transport.js';
import { type EverythingHttp, everythingEntry, freePort, startEverythingHttp } from './support/servers.js';
import { Inbox, type Received } from './support/transport-inbox.js';
import { waitFor } from './support/wait-for.js';

const PROTOCOL = '2025-11-25';

/** A node:http server for faults a real MCP server will not produce on demand. */
async function startFixture(handler: http.RequestListener): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function initialize(id: JsonRpcId, capabilities: Record<string, unknown> = {}): JsonRpcMessage {
  return { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities, clientInfo: { name: 'toolgate-test', version: '0' } } };
}

/** initialize + notifications/initialized, the way the protocol layer will do it. */
async function handshake(transport: HttpUpstreamTransport, inbox: Inbox, capabilities: Record<string, unknown> = {}): Promise<void> {
  await transport.send(initialize('init', capabilities));
  const { message } = await inbox.response('init');
  assert.ok('result' in message, `initialize failed: ${JSON.stringify(message)}`);
  transport.setProtocolVersion(String(message.result.protocolVersion));
  await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
}

describe('SseParser', () => {
  const stream = 'id: 1\r\nretry: 250\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: keep-alive comment\n\nevent: ping\ndata: x\r\rid: 2\ndata\n\n';
  const expected: SseEvent[] = [
    { id: '1', event: 'message', data: '{"a":\n1}', retry: 250 },
    { id: undefined, event: 'ping', data: 'x', retry: undefined },
    { id: '2', event: 'message', data: '', retry: undefined },
  ];

  function parse(chunks: string[]): SseEvent[] {
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    for (const chunk of chunks) parser.push(chunk);
    parser.end();
    return events;
  }

  test('the same events whether the stream comes whole, split at any point, or one character at a time', () => {
    assert.deepEqual(parse([stream]), expected);
    for (let cut = 1; cut < stream.length; cut++) {
      assert.deepEqual(parse([stream.slice(0, cut), stream.slice(cut)]), expected, `split at ${cut}: ${JSON.stringify(stream.slice(cut - 3, cut + 3))}`);
    }
    assert.deepEqual(parse([...stream]), expected);
  });

  test('CR LF split across chunks is one line end, not a line end and an empty line', () => {
    assert.deepEqual(parse(['data: a\r', '\ndata: b\r', '\n\r', '\n']), [{ id: undefined, event: 'message', data: 'a\nb', retry: undefined }]);
  });

  test('priming event (id and empty data) is emitted with data "" so the caller can keep its id', () => {
    assert.deepEqual(parse(['id: abc\ndata: \n\n']), [{ id: 'abc', event: 'message', data: '', retry: undefined }]);
  });

  test('a leading BOM, a field without a space, an unknown field and a bad retry are handled as browsers do', () => {
    assert.deepEqual(parse(['\uFEFFdata:x\nfoo: bar\nretry: 1s\n\n']), [{ id: undefined, event: 'message', data: 'x', retry: undefined }]);
  });

  test('an event without its closing blank line at the end of the stream is discarded', () => {
    assert.deepEqual(parse(['data: complete\n\ndata: cut off\n']), [{ id: undefined, event: 'message', data: 'complete', retry: undefined }]);
  });

  describe('maxDataBytes', () => {
    function parseLimited(chunks: string[], maxDataBytes: number): SseEvent[] {
      const events: SseEvent[] = [];
      const parser = new SseParser((e) => events.push(e), { maxDataBytes });
      for (const chunk of chunks) parser.push(chunk);
      parser.end();
      return events;
    }
    const oversized = (id?: string): SseEvent => ({ id, event: 'message', data: '', retry: undefined, oversized: true });

    test('data of exactly the limit passes; one byte more is emitted as oversized, with its id, and the next event is intact', () => {
      const stream = `data: ${'a'.repeat(10)}\n\nid: 7\ndata: ${'b'.repeat(11)}\n\ndata: next\n\n`;
      const expected = [
        { id: undefined, event: 'message', data: 'a'.repeat(10), retry: undefined },
        oversized('7'),
        { id: undefined, event: 'message', data: 'next', retry: undefined },
      ];
      assert.deepEqual(parseLimited([stream], 10), expected);
      // The same at every split point: lines held across chunks are counted too.
      for (let cut = 1; cut < stream.length; cut++) assert.deepEqual(parseLimited([stream.slice(0, cut), stream.slice(cut)], 10), expected, `split at ${cut}`);
      assert.deepEqual(parseLimited([...stream], 10), expected);
    });

    test('bytes are UTF-8 bytes, not characters; several data lines count with their joining newlines', () => {
      // 'é' is 2 bytes: 5 of them (10 bytes) fit in 10, 6 (12 bytes, 6 characters) do not.
      assert.deepEqual(
        parseLimited(['data: ééééé\n\ndata: éééééé\n\n'], 10).map((e) => e.oversized ?? e.data),
        ['ééééé', true],
      );
      // 'abcd' + '\n' + 'efghi' = 10 bytes fit; one more byte on the second line does not.
      assert.deepEqual(
        parseLimited(['data: abcd\ndata: efghi\n\ndata: abcd\ndata: efghij\n\n'], 10).map((e) => e.oversized ?? e.data),
        ['abcd\nefghi', true],
      );
    });

    test('a line far over the limit, arriving in many chunks, is not held: the parser keeps at most about the limit', () => {
      const events: SseEvent[] = [];
      const parser = new SseParser((e) => events.push(e), { maxDataBytes: 1000 });
      parser.push('data: ');
      for (let i = 0; i < 1000; i++) parser.push('x'.repeat(1000)); // 1 MB on one line
      assert.ok((parser as unknown as { partial: string[] }).partial.join('').length <= 1000, 'the line is dropped, not buffered');
      parser.push('\n\ndata: after\n\n');
      assert.deepEqual(events, [oversized(), { id: undefined, event: 'message', data: 'after', retry: undefined }]);
    });
  });
});

describe('HttpUpstreamTransport against server-everything (Streamable HTTP)', () => {
  let everything: EverythingHttp;
  before(async () => {
    everything = await startEverythingHttp();
  });
  after(async () => {
    await everything.close();
  });

  test('initialize captures the session; tools/list and tools/call come back related to their request', async () => {
    const transport = new HttpUpstreamTransport('everything', { url: everything.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.start();
      assert.equal(transport.sessionId, undefined);
      await handshake(transport, inbox);
      assert.match(transport.sessionId ?? '', /^[0-9a-f-]{36}$/);
      assert.deepEqual(inbox.received[0]!.relatedTo, 'init');

      await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      const list = await inbox.response(2);
      assert.equal(list.relatedTo, 2);
      assert.ok('result' in list.message);
      const names = (list.message.result.tools as Array<{ name: string }>).map((t) => t.name);
      assert.ok(names.includes('echo') && names.includes('trigger-long-running-operation'), names.join(','));

      await transport.send({ jsonrpc: '2.0', id: 'call-3', method: 'tools/call', params: { name: 'echo', arguments: { message: 'héllo ✓' } } });
      const call = await inbox.response('call-3');
      assert.equal(call.relatedTo, 'call-3');
      assert.deepEqual(call.message, { jsonrpc: '2.0', id: 'call-3', result: { content: [{ type: 'text', text: 'Echo: héllo ✓' }] } });
      assert.deepEqual(inbox.errors, []);
    } finally {
      await transport.close();
    }
  });

  test("progress notifications arrive on the call's stream, related to it, before the response", async () => {
    const transport = new HttpUpstreamTransport('everything', { url: everything.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await handshake(transport, inbox);
      const firstProgress = inbox.waitFor((r) => 'method' in r.message && r.message.method === 'notifications/progress', 'first progress');
      await transport.send({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 }, _meta: { progressToken: 'tok-7' } },
      });
      await firstProgress;
      // Delivered while the stream is still open: the tool has two more steps to run.
      assert.equal(
        inbox.received.some((r) => 'id' in r.message && r.message.id === 7),
        false,
      );
      await inbox.response(7);
      const onStream = inbox.received
        .filter((r) => r.relatedTo === 7)
        .map((r) => ('method' in r.message ? `${r.message.method}:${(r.message.params as { progress: number }).progress}` : 'response'));
      assert.deepEqual(onStream, ['notifications/progress:1', 'notifications/progress:2', 'notifications/progress:3', 'response']);
      for (const r of inbox.received.filter((e) => e.relatedTo === 7 && 'method' in e.message)) {
        assert.equal((r.message as unknown as { params: { progressToken: string } }).params.progressToken, 'tok-7');
      }
    } finally {
      await transport.close();
    }
  });

  test('a server→client request arrives on the open call stream and its answer unblocks the tool', async () => {
    const transport = new HttpUpstreamTransport('everything', { url: everything.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await handshake(transport, inbox, { sampling: {} });
      await transport.send({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } } });
      // The tool blocks until this request is answered: buffering the stream to its end would deadlock here.
      const sampling = await inbox.waitFor((r) => 'method' in r.message && r.message.method === 'sampling/createMessage', 'sampling request');
      assert.equal(sampling.relatedTo, 11);
      assert.ok('id' in sampling.message);
      await transport.send({
        jsonrpc: '2.0',
        id: sampling.message.id!,
        result: { role: 'assistant', content: { type: 'text', text: 'sampled-42' }, model: 'test', stopReason: 'endTurn' },
      });
      const call = await inbox.response(11);
      assert.equal(call.relatedTo, 11);
      assert.match(JSON.stringify(call.message), /sampled-42/);
    } finally {
      await transport.close();
    }
  });

  test('openEventStream delivers server-initiated messages with no relatedTo', async () => {
    const transport = new HttpUpstreamTransport('everything', { url: everything.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await handshake(transport, inbox, { roots: { listChanged: true } });
      await transport.openEventStream();
      // server-everything asks for the roots 350 ms after initialization, on the standalone stream.
      const roots = await inbox.waitFor((r) => 'method' in r.message && r.message.method === 'roots/list', 'roots/list');
      assert.equal(roots.relatedTo, undefined);
      assert.ok('id' in roots.message);
      await transport.send({ jsonrpc: '2.0', id: roots.message.id!, result: { roots: [{ uri: 'file:///tmp/project', name: 'project' }] } });
      const log = await inbox.waitFor((r) => 'method' in r.message && r.message.method === 'notifications/message', 'log notification');
      assert.equal(log.relatedTo, undefined);
      assert.match(JSON.stringify(log.message), /Roots updated: 1 root/);
    } finally {
      await transport.close();
    }
  });

  test('close() ends the session with DELETE: the server no longer knows the session id', async () => {
    const transport = new HttpUpstreamTransport('everything', { url: everything.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    await handshake(transport, inbox);
    const session = transport.sessionId!;
    await transport.close();
    const res = await request(everything.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    const body = await res.body.text();
    // server-everything answers an unknown session with 400, not the spec's 404.
    assert.equal(res.statusCode, 400, body);
    assert.match(body, /No valid session ID/);
    await assert.rejects(transport.send({ jsonrpc: '2.0', id: 2, method: 'ping' }), { code: 'ERR_UPSTREAM_CLOSED' });
  });

  test('a stream cut after the first progress event is resumed with Last-Event-ID and the call still completes', async () => {
    // A real TCP proxy cuts the real server's stream: the fault a flaky network produces.
    let cut = 0;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(everything.port, '127.0.0.1');
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (cut === 0 && chunk.includes('"progress":1')) {
          cut++;
          client.end(chunk);
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
      upstream.on('end', () => client.end());
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const { port } = proxy.address() as net.AddressInfo;
    const transport = new HttpUpstreamTransport('everything', { url: `http://127.0.0.1:${port}/mcp`, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await handshake(transport, inbox);
      await transport.send({
        jsonrpc: '2.0',
        id: 21,
        method: 'tools/call',
        params: { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 }, _meta: { progressToken: 'tok-21' } },
      });
      const call = await inbox.response(21);
      assert.equal(cut, 1, 'the proxy cut the stream');
      assert.match(JSON.stringify(call.message), /Long running operation completed/);
      const progress = inbox.received
        .filter((r) => r.relatedTo === 21 && 'method' in r.message)
        .map((r) => (r.message as unknown as { params: { progress: number } }).params.progress);
      assert.deepEqual(progress, [1, 2, 3]);
      assert.ok(
        inbox.errors.some((e) => /request stream dropped/.test(e.message)),
        inbox.errors.map((e) => e.message).join('; '),
      );
    } finally {
      await transport.close();
      proxy.close();
      await once(proxy, 'close');
    }
  });
});

describe('HttpUpstreamTransport against an SDK server in JSON response mode', () => {
  test('a 200 application/json body is parsed once and delivered related to the request', async () => {
    const fixture = await startFixture(async (req, res) => {
      // Stateless SDK server, one per request, answering with plain JSON instead of SSE.
      const server = new McpServer({ name: 'json-fixture', version: '1.0.0' });
      server.registerTool('add', { inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close());
      await server.connect(transport);
      await transport.handleRequest(req, res);
    });
    const transport = new HttpUpstreamTransport('calc', { url: fixture.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.send(initialize(1));
      const init = await inbox.response(1);
      assert.equal(init.relatedTo, 1);
      assert.equal(transport.sessionId, undefined, 'a stateless server sets no session');
      transport.setProtocolVersion(PROTOCOL);
      await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 40 } } });
      const call = await inbox.response(2);
      assert.deepEqual(call, { message: { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: '42' }] } }, relatedTo: 2 });
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });
});

describe('HttpUpstreamTransport maxMessageBytes', () => {
  test('an SSE event from server-everything over the limit: that request gets -32010 naming the upstream and the limit; the next call works', async () => {
    const everything = await startEverythingHttp();
    const transport = new HttpUpstreamTransport('everything', { url: everything.url, connectTimeoutMs: 2000, maxMessageBytes: 2048 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await handshake(transport, inbox);
      await transport.send({ jsonrpc: '2.0', id: 'big', method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(4096) } } });
      const big = await inbox.response('big');
      assert.deepEqual(big, {
        message: {
          jsonrpc: '2.0',
          id: 'big',
          error: { code: -32010, message: 'upstream everything sent a message larger than the limit of 2048 bytes (maxMessageBytes); it was discarded' },
        },
        relatedTo: 'big',
      });
      assert.ok(
        inbox.errors.some((e) => /sent an event larger than the limit of 2048 bytes/.test(e.message)),
        inbox.errors.map((e) => e.message).join('; '),
      );
      await transport.send({ jsonrpc: '2.0', id: 'small', method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(1000) } } });
      assert.match(JSON.stringify((await inbox.response('small')).message), /"Echo: x{1000}"/);
      assert.equal(inbox.received.filter((r) => r.relatedTo === 'big').length, 1, 'exactly one answer for the oversized call');
    } finally {
      await transport.close();
      await everything.close();
    }
  });

  test('a JSON response body over the limit, with Content-Length or chunked: -32010 naming the limit, and the body is not read to its end', async () => {
    const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'y'.repeat(64 * 1024) } });
    let bodyClosedEarly = 0;
    const fixture = await startFixture((req, res) => {
      res.on('close', () => {
        if (!res.writableFinished) bodyClosedEarly++;
      });
      const id = Number(req.headers['x-case']);
      const body = huge.replace('"id":1', `"id":${id}`);
      if (id === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      } else {
        // Chunked, no length: the limit is found while reading; the rest never comes (the
        // server would stall on it), so the client must stop reading rather than wait.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(body.slice(0, 40 * 1024));
      }
    });
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000, maxMessageBytes: 32 * 1024 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      for (const id of [1, 2]) {
        await transport.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'x' } }, { headers: { 'x-case': String(id) } });
        const answer = await inbox.response(id);
        assert.deepEqual(answer.message, {
          jsonrpc: '2.0',
          id,
          error: { code: -32010, message: 'upstream crm sent a message larger than the limit of 32768 bytes (maxMessageBytes); it was discarded' },
        });
      }
      assert.equal(inbox.errors.filter((e) => /sent a JSON body larger than the limit of 32768 bytes/.test(e.message)).length, 2);
      await waitFor(() => bodyClosedEarly >= 1, { what: 'the client to abandon the chunked body' });
      assert.ok(bodyClosedEarly >= 1, 'the chunked body was abandoned, not read to the end');
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });

  test('maxMessageBytes must be a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new HttpUpstreamTransport('crm', { url: 'http://127.0.0.1:1/mcp', connectTimeoutMs: 1000, maxMessageBytes: bad }), {
        code: 'ERR_UPSTREAM_CONFIG',
        message: `upstream crm: maxMessageBytes must be a positive integer, got ${bad}`,
      });
    }
  });
});

// The stdio transport's limit is tested here, beside the HTTP one, because this change could not
// touch test/upstream-stdio.test.ts; move it there when convenient.
describe('StdioUpstreamTransport maxMessageBytes', () => {
  test('server-everything (stdio) answering over the limit: onerror names the limit, the line is discarded, the next answer arrives', async () => {
    const transport = new StdioUpstreamTransport('everything', { command: process.execPath, args: [everythingEntry(), 'stdio'], maxMessageBytes: 2048 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.start();
      await transport.send(initialize(1));
      await inbox.response(1);
      await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await transport.send({ jsonrpc: '2.0', id: 'big', method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(4096) } } });
      await transport.send({ jsonrpc: '2.0', id: 'small', method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(1000) } } });
      const small = await inbox.response('small');
      assert.match(JSON.stringify(small.message), /"Echo: x{1000}"/);
      assert.equal(
        inbox.received.some((r) => 'id' in r.message && r.message.id === 'big'),
        false,
        'the oversized answer was not delivered',
      );
      assert.equal(inbox.errors.length, 1, inbox.errors.map((e) => e.message).join('; '));
      const error = inbox.errors[0]!;
      assert.ok(error instanceof UpstreamTransportError);
      assert.equal(error.code, 'ERR_UPSTREAM_MESSAGE_TOO_LARGE');
      assert.equal(error.message, 'upstream everything: wrote a line larger than the limit of 2048 bytes (maxMessageBytes); it was discarded');
    } finally {
      await transport.close();
    }
  });

  test('a 1 MB line written in pieces is dropped as it arrives (reported once); a line of exactly the limit and the line after it are delivered', async () => {
    const exact = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { n: 1, pad: '' } });
    const pad = 'é'.repeat((1024 - Buffer.byteLength(exact)) / 2); // 2 bytes each: the line is exactly 1024 bytes
    const script = [
      `process.stdout.write(${JSON.stringify(exact.replace('"pad":""', `"pad":"${pad}"`))} + '\\n');`,
      'process.stdout.write(\'{"jsonrpc":"2.0","method":"notifications/message","params":{"n":2,"pad":"\');',
      'let i = 0;',
      'const more = () => { if (i++ < 16) { process.stdout.write("y".repeat(65536)); setTimeout(more, 5); } else process.stdout.write(\'"}}\\n{"jsonrpc":"2.0","method":"notifications/message","params":{"n":3}}\\n\'); };',
      'more();',
      'process.stdin.resume();',
    ].join('\n');
    const transport = new StdioUpstreamTransport('chatty', { command: process.execPath, args: ['-e', script], maxMessageBytes: 1024 });
    const inbox = new Inbox();
    inbox.attach(transport);
    const notification =
      (n: number) =>
      (r: Received): boolean =>
        'method' in r.message && (r.message.params as { n?: number } | undefined)?.n === n;
    try {
      await transport.start();
      await inbox.waitFor(notification(3), 'the message after the long line');
      assert.deepEqual(
        inbox.received.map((r) => (r.message as unknown as { params: { n: number } }).params.n),
        [1, 3],
      );
      assert.equal(inbox.errors.length, 1, inbox.errors.map((e) => e.message).join('; '));
      assert.equal((inbox.errors[0] as UpstreamTransportError).code, 'ERR_UPSTREAM_MESSAGE_TOO_LARGE');
    } finally {
      await transport.close();
    }
  });

  test('maxMessageBytes must be a positive integer', () => {
    assert.throws(() => new StdioUpstreamTransport('crm', { command: 'node', maxMessageBytes: 0 }), {
      code: 'ERR_UPSTREAM_CONFIG',
      message: 'upstream crm: maxMessageBytes must be a positive integer, got 0',
    });
  });
});

describe('HttpUpstreamTransport faults', () => {
  test('nothing listening on the port: send() rejects with ERR_UPSTREAM_UNREACHABLE', async () => {
    const port = await freePort();
    const transport = new HttpUpstreamTransport('crm', { url: `http://127.0.0.1:${port}/mcp`, connectTimeoutMs: 2000 });
    try {
      await assert.rejects(transport.send(initialize(1)), (err: unknown) => {
        assert.ok(err instanceof UpstreamTransportError);
        assert.equal(err.code, 'ERR_UPSTREAM_UNREACHABLE');
        assert.equal(err.upstream, 'crm');
        assert.match(err.message, /ECONNREFUSED/);
        return true;
      });
    } finally {
      await transport.close();
    }
  });

  test('HTTP 500 with a text body: the request gets a -32010 error naming the upstream and status', async () => {
    const fixture = await startFixture((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error'));
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.send({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
      const answer = await inbox.response(5);
      assert.deepEqual(answer, { message: { jsonrpc: '2.0', id: 5, error: { code: -32010, message: 'upstream crm answered HTTP 500' } }, relatedTo: 5 });
      // A notification has no response to carry the error: send() rejects instead.
      await assert.rejects(transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }), { code: 'ERR_UPSTREAM_REJECTED' });
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });

  test('HTTP 400 with a JSON-RPC error body: that error is delivered, re-addressed to the request', async () => {
    const fixture = await startFixture((_req, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad Request: unsupported protocol version"}}'),
    );
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.send({ jsonrpc: '2.0', id: 'q', method: 'tools/list' });
      const answer = await inbox.response('q');
      assert.deepEqual(answer.message, { jsonrpc: '2.0', id: 'q', error: { code: -32600, message: 'Bad Request: unsupported protocol version' } });
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });

  test('a 200 JSON body that is not JSON, or not JSON-RPC: -32010 "sent an invalid response" and onerror', async () => {
    const bodies = ['<html>oops</html>', '{"jsonrpc":"1.0","id":1,"result":{}}'];
    let n = 0;
    const fixture = await startFixture((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(bodies[n++]));
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const html = await inbox.response(1);
      assert.equal(html.relatedTo, 1);
      assert.ok('error' in html.message);
      assert.equal(html.message.error.code, -32010);
      assert.match(html.message.error.message, /^upstream crm sent an invalid response: not JSON: "<html>oops/);

      await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      const wrongVersion = await inbox.response(2);
      assert.ok('error' in wrongVersion.message);
      assert.equal(wrongVersion.message.error.message, 'upstream crm sent an invalid response: jsonrpc must be "2.0"');
      assert.equal(inbox.errors.length, 2);
      assert.ok(inbox.errors.every((e) => e instanceof UpstreamTransportError && e.upstream === 'crm'));
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });

  test('an SSE stream that ends without the response and without event ids: -32010 "closed the stream before answering"', async () => {
    const fixture = await startFixture((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}\n\n');
    });
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'x' } });
      const answer = await inbox.response(9);
      assert.deepEqual(answer.message, { jsonrpc: '2.0', id: 9, error: { code: -32010, message: 'upstream crm closed the stream before answering' } });
      assert.deepEqual(
        inbox.received.map((r) => r.relatedTo),
        [9, 9],
        'the progress came first, then the error',
      );
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });

  test("an SSE stream with event ids that ends early is resumed by GET with Last-Event-ID after the server's retry delay", async () => {
    const seen: Array<{ method: string; lastEventId: string | undefined; session: string | undefined }> = [];
    const fixture = await startFixture((req, res) => {
      seen.push({ method: req.method!, lastEventId: req.headers['last-event-id'] as string | undefined, session: req.headers['mcp-session-id'] as string | undefined });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's-1' });
      if (req.method === 'POST') res.end('id: e1\nretry: 20\ndata: \n\n');
      else res.end('id: e2\ndata: {"jsonrpc":"2.0","id":4,"result":{"ok":true}}\n\n');
    });
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'x' } });
      const answer = await inbox.response(4);
      assert.deepEqual(answer, { message: { jsonrpc: '2.0', id: 4, result: { ok: true } }, relatedTo: 4 });
      assert.deepEqual(seen, [
        { method: 'POST', lastEventId: undefined, session: undefined },
        { method: 'GET', lastEventId: 'e1', session: 's-1' },
      ]);
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });

  /** A server that hands out session 'gone-soon' at initialize and then refuses it with `status`. */
  async function refusingFixture(status: number, body: string): Promise<{ url: string; stop: () => Promise<void>; requests: number }> {
    const state = { requests: 0 };
    const fixture = await startFixture((req, res) => {
      state.requests++;
      if (req.headers['mcp-session-id'] === undefined) {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'gone-soon' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { protocolVersion: PROTOCOL, capabilities: {}, serverInfo: { name: 'f', version: '0' } } }));
      } else {
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      }
    });
    return {
      ...fixture,
      get requests() {
        return state.requests;
      },
    };
  }

  for (const [status, body, serverMessage] of [
    [404, '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}', 'Session not found'],
    [400, '{"jsonrpc":"2.0","id":2,"error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}', 'Bad Request: No valid session ID provided'],
  ] as const) {
    test(`HTTP ${status} to a request that carried the session: send() rejects with ERR_UPSTREAM_SESSION_EXPIRED, reported first through onerror; nothing delivered, transport still open`, async () => {
      const fixture = await refusingFixture(status, body);
      const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000 });
      const inbox = new Inbox();
      inbox.attach(transport);
      const order: string[] = [];
      transport.onerror = (error) => {
        order.push('onerror');
        inbox.errors.push(error);
      };
      try {
        await transport.send(initialize(1));
        await inbox.response(1);
        assert.equal(transport.sessionId, 'gone-soon');
        const refused = transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' }).catch((err: unknown) => {
          order.push('rejected');
          return err;
        });
        const err = await refused;
        assert.ok(err instanceof UpstreamTransportError);
        assert.equal(err.code, 'ERR_UPSTREAM_SESSION_EXPIRED');
        assert.equal(err.message, `upstream crm: answered HTTP ${status} to request 2 (${serverMessage}): the session is no longer valid`);
        assert.deepEqual(order, ['onerror', 'rejected']);
        assert.equal((inbox.errors[0] as UpstreamTransportError).code, 'ERR_UPSTREAM_SESSION_EXPIRED');
        assert.equal(inbox.received.length, 1, "only the initialize answer: the refused request is the owner's to retry");
        assert.deepEqual(inbox.closes, [], 'the transport reports; the owner decides');
        // Still open: other requests of the session get their own answers.
        await assert.rejects(transport.send({ jsonrpc: '2.0', id: 3, method: 'ping' }), { code: 'ERR_UPSTREAM_SESSION_EXPIRED' });
        assert.equal(fixture.requests, 3);
      } finally {
        await transport.close();
        await fixture.stop();
      }
    });
  }

  test("HTTP 400 without a session (nothing to lose): the server's error is delivered as before, no session signal", async () => {
    const fixture = await startFixture((_req, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Server not initialized"}}'),
    );
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    try {
      await transport.send({ jsonrpc: '2.0', id: 'q', method: 'tools/list' });
      const answer = await inbox.response('q');
      assert.deepEqual(answer.message, { jsonrpc: '2.0', id: 'q', error: { code: -32000, message: 'Bad Request: Server not initialized' } });
      assert.deepEqual(inbox.errors, []);
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });

  test('aborting options.signal stops reading that stream: the server sees the connection go and nothing more is delivered', async () => {
    let serverSawClose!: () => void;
    const closed = new Promise<void>((resolve) => (serverSawClose = resolve));
    const fixture = await startFixture((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}\n\n');
      res.on('close', serverSawClose);
    });
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000 });
    const inbox = new Inbox();
    inbox.attach(transport);
    const cancel = new AbortController();
    try {
      await transport.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow' } }, { signal: cancel.signal });
      await inbox.waitFor((r) => r.relatedTo === 3, 'the progress');
      cancel.abort();
      await closed;
      assert.equal(inbox.received.length, 1, 'no synthesized error for a cancelled call');
      assert.deepEqual(inbox.errors, []);
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });

  test('configured and per-message headers are sent; the per-message value wins, case-insensitively', async () => {
    let headers: http.IncomingHttpHeaders = {};
    const fixture = await startFixture((req, res) => {
      headers = req.headers;
      res.writeHead(202).end();
    });
    const transport = new HttpUpstreamTransport('crm', { url: fixture.url, connectTimeoutMs: 2000, headers: { 'X-Tenant': 'acme', Authorization: 'Bearer static' } });
    try {
      transport.setProtocolVersion(PROTOCOL);
      await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }, { headers: { authorization: 'Bearer per-call', traceparent: '00-abc-def-01' } });
      assert.equal(headers['x-tenant'], 'acme');
      assert.equal(headers.authorization, 'Bearer per-call');
      assert.equal(headers.traceparent, '00-abc-def-01');
      assert.equal(headers['mcp-protocol-version'], PROTOCOL);
      assert.equal(headers.accept, 'application/json, text/event-stream');
      assert.equal(headers['content-type'], 'application/json');
      assert.equal(headers['mcp-session-id'], undefined);
    } finally {
      await transport.close();
      await fixture.stop();
    }
  });
});
