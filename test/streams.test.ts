/**
 * SSE streams in the 2025 eras: a dropped connection is not a cancellation, and the client
 * resumes the stream with Last-Event-ID without missing the result.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS, openSession } from './support/gateway.js';

let gateway: RunningGateway;
let probe: ProbeServer;

before(async () => {
  probe = await startProbeServer();
  gateway = await gatewayWith(`upstreams:\n  - id: probe\n    url: ${probe.url}\n`);
});
after(async () => {
  await gateway?.close();
  await probe?.close();
});

interface SseEvent {
  id?: string;
  data: string;
}

/** Reads SSE events from a fetch body until `stop` says so; returns what was read. */
async function readEvents(body: ReadableStream<Uint8Array>, stop: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  while (!stop(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('data: ')) event.data += line.slice(6);
      }
      events.push(event);
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

test('a 2025-11-25 client that drops a call stream resumes it with Last-Event-ID and gets the result; the upstream was not cancelled', async () => {
  const sid = await openSession(gateway.url);
  const abort = new AbortController();
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-session-id': sid },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 77,
      method: 'tools/call',
      params: { name: 'probe__count', arguments: { tag: 'resume', steps: 6, delay_ms: 80 }, _meta: { progressToken: 'p-77' } },
    }),
    signal: abort.signal,
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const first = await readEvents(res.body!, (events) => events.some((e) => e.data.includes('notifications/progress')));
  assert.equal(first[0]!.data, '', 'a priming event (id, no data) opens the stream');
  const lastId = first[first.length - 1]!.id!;
  abort.abort();

  const resumed = await fetch(gateway.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': lastId } });
  assert.equal(resumed.status, 200);
  const rest = await readEvents(resumed.body!, (events) => events.some((e) => e.data.includes('"id":77')));
  const result = JSON.parse(rest.find((e) => e.data.includes('"id":77'))!.data);
  assert.equal(result.result.content[0].text, 'resume done after 6');
  const progress = [...first, ...rest].filter((e) => e.data.includes('notifications/progress')).map((e) => JSON.parse(e.data).params.progress);
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6], 'no progress event lost or repeated across the reconnect');
  assert.ok(!probe.log.cancelled.includes('resume'), 'disconnecting did not cancel the upstream call');
});

test('Last-Event-ID naming no stream of this session → 404', async () => {
  const sid = await openSession(gateway.url);
  const r = await fetch(gateway.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': 'nope/3' } });
  assert.equal(r.status, 404);
});

test('a second standalone GET stream on one session → 409', async () => {
  const sid = await openSession(gateway.url);
  const one = await fetch(gateway.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
  assert.equal(one.status, 200);
  const two = await fetch(gateway.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
  assert.equal(two.status, 409);
  await one.body?.cancel();
});
