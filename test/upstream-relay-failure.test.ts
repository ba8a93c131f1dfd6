/**
 * A server→client request whose relay to the client fails (the client's side rejects, e.g. the
 * client went away mid-request) is still answered to the upstream with an error, and the failure
 * never becomes an unhandled rejection. Driven against a real server-everything over HTTP, whose
 * `trigger-sampling-request` tool asks the client for `sampling/createMessage` during the call.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { UpstreamClient } from '../src/upstream/client.js';
import { HttpUpstreamTransport } from '../src/upstream/transport/http.js';
import { startEverythingHttp } from './support/servers.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('a relay that rejects: the upstream gets a JSON-RPC error naming the method, the call ends, nothing is left unhandled', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  cleanups.push(async () => process.off('unhandledRejection', onUnhandled));

  const server = await startEverythingHttp();
  cleanups.push(server.crash);
  const client = new UpstreamClient(
    { id: 'everything', transport: { type: 'http', url: server.url, headers: {} }, prefix: '', protocol: '2025-11-25', timeouts: { connectMs: 5000, requestMs: 15_000 } },
    () => new HttpUpstreamTransport('everything', { url: server.url, connectTimeoutMs: 2000 }),
    { listChanged: () => undefined, resourceUpdated: () => undefined, unrouted: () => undefined, stateChanged: () => undefined },
  );
  cleanups.push(() => client.close());
  await client.start();
  assert.equal(client.state, 'ready', `server-everything did not start: ${client.lastError}`);

  const asked: string[] = [];
  const response = await client.forward(
    { jsonrpc: '2.0', id: 'sampling', method: 'tools/call', params: { name: 'trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 5 } } },
    {
      sink: {
        notify: () => undefined,
        request: (r) => {
          asked.push(r.method);
          return Promise.reject(new Error('the client went away'));
        },
      },
    },
  );
  assert.deepEqual(asked, ['sampling/createMessage'], 'the upstream asked the client for sampling during the call');
  // The server-side SDK turns the error answer to its sampling request into the call's failure.
  const text = JSON.stringify(response);
  assert.match(text, /could not relay sampling\/createMessage to the client: the client went away/, `the call's answer: ${text}`);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(unhandled, [], 'no unhandled rejection');
});
