/**
 * What a response stream (MessageChannel) keeps for its client, over real sockets on loopback:
 * backpressure (ready()), the total over all streams, the resumption buffer, and a client that
 * went away. The channel is driven directly so each bound can be reached exactly; the upstream
 * side of the same mechanism is covered end to end in backpressure.test.ts.
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { LIMIT_DEFAULTS, type LimitsConfig } from '../src/config/limits.js';
import { MessageChannel } from '../src/mcp/channel.js';
import { type LimitRefusal, PrincipalLimits } from '../src/mcp/principal-limits.js';
import type { Principal } from '../src/pipeline/stages.js';
import { waitFor } from './support/wait-for.js';

const principal: Principal = { agent: 'reader', scopes: [], bindingKey: 'reader||', anonymous: false };
const caller = { principal, sessionId: 'session-1' };
let server: Server;
let port = 0;
/** The next request's ServerResponse, handed to the test that asked for it. */
const responses: Array<(res: ServerResponse) => void> = [];

before(async () => {
  server = createServer((_req, res) => responses.shift()?.(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Opens a request; resolves with the server's response object and the client's (unread: paused). */
async function connection(): Promise<{ res: ServerResponse; client: Promise<IncomingMessage>; destroy(): void }> {
  const serverSide = new Promise<ServerResponse>((resolve) => responses.push(resolve));
  const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', agent: false });
  const client = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  req.end();
  return { res: await serverSide, client, destroy: () => req.destroy() };
}

function channelOn(res: ServerResponse, limits: PrincipalLimits, abort?: AbortController): MessageChannel {
  return new MessageChannel('stream-1', res, {
    isFinal: (m) => 'id' in m && m.id === 1,
    priming: false,
    requestId: 1,
    limits,
    usage: limits.of(principal.bindingKey),
    caller,
    method: 'tools/call',
    ...(abort ? { abort } : {}),
  });
}

function progress(i: number, bytes: number): { jsonrpc: '2.0'; method: string; params: Record<string, unknown> } {
  return { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: i, message: 'x'.repeat(bytes) } };
}

/** Reads a whole SSE body: its bytes and its messages. */
async function readAll(res: IncomingMessage): Promise<{ bytes: number; messages: Array<Record<string, unknown>> }> {
  let text = '';
  for await (const chunk of res) text += chunk.toString();
  const messages = text
    .split('\n\n')
    .map((e) => e.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => l !== undefined && l.length > 6)
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
  return { bytes: Buffer.byteLength(text), messages };
}

function limitsWith(config: Partial<LimitsConfig>, refusals: LimitRefusal[]): PrincipalLimits {
  return new PrincipalLimits({ ...LIMIT_DEFAULTS, ...config }, (r) => refusals.push(r));
}

test('a client that stops reading: ready() hands out a promise once its socket is full, which resolves when it reads again', async () => {
  const limits = limitsWith({}, []);
  const { res, client } = await connection();
  const channel = channelOn(res, limits);
  let sent = 0;
  // Loopback sockets take megabytes before they push back; bounded so a broken channel cannot spin.
  while (channel.ready() === undefined && sent < 20_000) channel.send(progress(++sent, 1024));
  const paused = channel.ready();
  assert.ok(paused, `congested after ${sent} messages`);
  assert.ok(limits.budget.used > 0, 'the backlog is counted');
  const reading = readAll(await client);
  await paused;
  assert.equal(channel.ready(), undefined);
  assert.equal(limits.budget.used, 0, 'a drained stream holds nothing in the budget');
  channel.send({ jsonrpc: '2.0', id: 1, result: {} });
  const { messages } = await reading;
  assert.equal(messages.length, sent + 1);
});

test('total_stream_buffer_bytes: two unread streams together past the total — the second is ended with -32029 naming the total, its call aborted, the refusal recorded; the first goes on', async () => {
  const refusals: LimitRefusal[] = [];
  const limits = limitsWith({ streamBufferBytes: 256 * 1024, totalStreamBufferBytes: 320 * 1024 }, refusals);
  const first = await connection();
  const second = await connection();
  // No await from here on: the first stream's backlog must still be there when the second fills.
  const a = channelOn(first.res, limits);
  let i = 0;
  while (limits.budget.used < 200 * 1024 && i < 50_000) a.send(progress(++i, 4096));
  assert.equal(a.isEnded, false, 'the first stream stays within its own bound');
  const abort = new AbortController();
  const b = channelOn(second.res, limits, abort);
  let j = 0;
  while (!b.isEnded && j < 50_000) b.send(progress(++j, 4096));
  assert.equal(b.isEnded, true, `ended after ${j} messages`);
  assert.equal(abort.signal.aborted, true, 'its call is cancelled');
  assert.equal(refusals.at(-1)?.limit, 'total_stream_buffer_bytes');
  assert.equal(a.isEnded, false);

  const { messages } = await readAll(await second.client);
  const final = messages.at(-1) as { id: number; error: { code: number; message: string; data: unknown } };
  assert.equal(final.id, 1);
  assert.equal(final.error.code, -32029);
  assert.match(final.error.message, /total_stream_buffer_bytes/);
  assert.deepEqual(final.error.data, { limit: 'total_stream_buffer_bytes', max: 320 * 1024 });
  a.close();
  first.destroy();
});

test('the resumption buffer of a stream its client read in full keeps 64 KiB, not the last 1,000 events (8 MB sent, resume from the start)', async () => {
  const limits = limitsWith({}, []);
  const first = await connection();
  const channel = channelOn(first.res, limits);
  channel.send(progress(0, 16)); // the first message before the final one opens the stream: headers go out
  const reading = readAll(await first.client);
  for (let i = 1; i <= 2000; i++) {
    channel.send(progress(i, 4096));
    const wait = channel.ready();
    if (wait) await wait;
  }
  first.destroy();
  await reading.catch(() => undefined);
  await waitFor(() => !channel.isAttached, { what: 'the first connection to be gone' });
  const again = await connection();
  channel.resume(again.res, 0);
  channel.send({ jsonrpc: '2.0', id: 1, result: {} });
  const { bytes, messages } = await readAll(await again.client);
  assert.ok(bytes < 64 * 1024 + 8 * 1024, `replayed ${bytes} bytes`);
  assert.ok(messages.length > 1, 'the latest events are replayed');
  assert.deepEqual(messages.at(-1), { jsonrpc: '2.0', id: 1, result: {} });
});

test('a client that went away counts as not reading: past stream_buffer_bytes its stream ends with -32029, kept for a resume that replays at most the bound', async () => {
  const refusals: LimitRefusal[] = [];
  const limits = limitsWith({ streamBufferBytes: 128 * 1024 }, refusals);
  const first = await connection();
  const abort = new AbortController();
  const channel = channelOn(first.res, limits, abort);
  channel.send(progress(0, 16));
  (await first.client).on('error', () => undefined);
  first.destroy();
  await waitFor(() => !channel.isAttached, { what: 'the connection to be gone' });
  let i = 0;
  while (!channel.isEnded && i < 10_000) channel.send(progress(++i, 4096));
  assert.equal(channel.isEnded, true, `ended after ${i} messages`);
  assert.ok(i * 4096 < 256 * 1024, `ended near the bound (${i} messages of 4 KiB)`);
  assert.equal(abort.signal.aborted, true);
  assert.equal(refusals.at(-1)?.limit, 'stream_buffer_bytes');
  assert.equal(limits.budget.used, 0, 'an ended stream holds nothing in the budget');

  const again = await connection();
  channel.resume(again.res, 0);
  const { bytes, messages } = await readAll(await again.client);
  assert.ok(bytes < 128 * 1024 + 8 * 1024, `replayed ${bytes} bytes`);
  const final = messages.at(-1) as { error: { code: number; data: unknown } };
  assert.equal(final.error.code, -32029);
  assert.deepEqual(final.error.data, { limit: 'stream_buffer_bytes', max: 128 * 1024 });
});
