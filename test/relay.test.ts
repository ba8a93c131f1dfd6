/**
 * Real npm MCP servers behind one gateway, driven by the official SDK client:
 * server-everything over Streamable HTTP and over stdio, server-memory over stdio, and a probe
 * server that reports what reached it (cancellations, progress tokens).
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { RunningGateway } from '../src/gateway.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith } from './support/gateway.js';
import { everythingEntry, memoryEntry, startEverythingHttp } from './support/servers.js';
import { standaloneStreamOpen } from './support/standalone-stream.js';
import { waitFor } from './support/wait-for.js';

let gateway: RunningGateway;
let everythingHttp: { url: string; close(): Promise<void> };
let probe: ProbeServer;

before(async () => {
  everythingHttp = await startEverythingHttp();
  probe = await startProbeServer();
  gateway = await gatewayWith(`upstreams:
  - id: web
    url: ${everythingHttp.url}
  - id: local
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(everythingEntry())}, stdio]
  - id: memory
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(memoryEntry())}]
    env: { MEMORY_FILE_PATH: ${JSON.stringify(`/tmp/toolgate-memory-${process.pid}.json`)} }
  - id: probe
    url: ${probe.url}
`);
});

after(async () => {
  await gateway?.close();
  await everythingHttp?.close();
  await probe?.close();
});

async function connect(capabilities: Record<string, unknown> = {}): Promise<Client> {
  const client = new Client({ name: 'relay-test', version: '1.0.0' }, { capabilities });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
  return client;
}

function text(result: unknown): string {
  return ((result as { content: Array<{ type: string; text?: string }> }).content ?? []).map((c) => c.text ?? '').join('\n');
}

describe('aggregation', () => {
  test('tools/list merges all four upstreams under their prefixes', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const expected of ['web__echo', 'local__echo', 'memory__read_graph', 'probe__count']) assert.ok(names.includes(expected), `missing ${expected} in ${names.join(', ')}`);
    assert.ok(!names.includes('echo'), 'no unprefixed name leaks through');
    await client.close();
  });

  test('a call reaches the right upstream under its original name, over HTTP and over stdio', async () => {
    const client = await connect();
    assert.equal(text(await client.callTool({ name: 'web__echo', arguments: { message: 'via http' } })), 'Echo: via http');
    assert.equal(text(await client.callTool({ name: 'local__echo', arguments: { message: 'via stdio' } })), 'Echo: via stdio');
    await client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'alice', entityType: 'person', observations: ['works in sales at acme'] }] } });
    const graph = text(await client.callTool({ name: 'memory__read_graph', arguments: {} }));
    assert.match(graph, /works in sales at acme/);
    await client.close();
  });

  test('prompts and resources from upstreams are listed and readable', async () => {
    const client = await connect();
    const { prompts } = await client.listPrompts();
    assert.ok(
      prompts.some((p) => p.name.startsWith('web__')),
      'web prompts are listed with the prefix',
    );
    const { resources } = await client.listResources();
    assert.ok(resources.length > 0, 'resources are listed');
    const first = resources[0]!;
    const read = await client.readResource({ uri: first.uri });
    assert.equal(read.contents[0]?.uri, first.uri);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.ok(resourceTemplates.length > 0, 'templates are listed');
    await client.close();
  });

  test('an unknown tool name is an error that names the tool', async () => {
    const client = await connect();
    await assert.rejects(client.callTool({ name: 'web__no_such_tool', arguments: {} }), /Tool web__no_such_tool not found/);
    await client.close();
  });
});

describe('relay', () => {
  for (const upstream of ['web', 'local']) {
    test(`progress from ${upstream} arrives under the client's own token`, async () => {
      const client = await connect();
      const seen: number[] = [];
      const result = await client.callTool({ name: `${upstream}__trigger-long-running-operation`, arguments: { duration: 0.3, steps: 3 } }, undefined, {
        onprogress: (p) => seen.push(p.progress),
      });
      assert.deepEqual(seen, [1, 2, 3]);
      assert.match(text(result), /Steps: 3/);
      await client.close();
    });

    test(`sampling requested by ${upstream} during a call is answered by the client`, async () => {
      const client = await connect({ sampling: {} });
      client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
        role: 'assistant',
        content: { type: 'text', text: `sampled: ${(req.params.messages[0]!.content as { text: string }).text}` },
        model: 'test-model',
      }));
      const result = await client.callTool({ name: `${upstream}__trigger-sampling-request`, arguments: { prompt: 'hello from alice', maxTokens: 10 } });
      assert.match(text(result), /sampled: .*hello from alice/);
      assert.match(text(result), /test-model/);
      await client.close();
    });

    test(`elicitation requested by ${upstream} during a call is answered by the client`, async () => {
      const client = await connect({ elicitation: {} });
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Alice Example', check: true } }));
      const result = await client.callTool({ name: `${upstream}__trigger-elicitation-request`, arguments: {} });
      assert.match(text(result), /Alice Example/);
      await client.close();
    });
  }

  test('a client without the sampling capability gets the upstream told so, not a hang', async () => {
    const client = await connect();
    const result = await client.callTool({ name: 'web__trigger-sampling-request', arguments: { prompt: 'x', maxTokens: 5 } }).catch((e: Error) => e);
    // server-everything only offers the tool when the gateway declared sampling; the gateway
    // declares it and answers for this client that it has no such capability.
    const message = result instanceof Error ? result.message : text(result);
    assert.match(message, /sampling/);
    await client.close();
  });

  test('logging sent during a call arrives on that call, respecting the level', async () => {
    const client = await connect();
    const lines: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      lines.push(String(n.params.data));
    });
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'probe__count', arguments: { tag: 'log', steps: 3 } });
    assert.deepEqual(lines, ['log step 1', 'log step 2', 'log step 3']);
    await client.setLoggingLevel('error');
    lines.length = 0;
    await client.callTool({ name: 'probe__count', arguments: { tag: 'quiet', steps: 2 } });
    assert.deepEqual(lines, [], 'info lines are filtered at level error');
    await client.close();
  });

  test('resources/updated reaches exactly the sessions that subscribed', async () => {
    const subscriber = await connect();
    const bystander = await connect();
    const updates = { subscriber: [] as string[], bystander: [] as string[] };
    subscriber.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.subscriber.push(n.params.uri));
    bystander.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.bystander.push(n.params.uri));
    const uri = 'demo://resource/static/document/architecture.md';
    await subscriber.subscribeResource({ uri });
    await waitFor(() => standaloneStreamOpen(gateway, subscriber) && standaloneStreamOpen(gateway, bystander), { what: "both clients' GET streams to open" });
    await subscriber.callTool({ name: 'web__toggle-subscriber-updates', arguments: {} });
    await waitFor(() => updates.subscriber.length > 0, { what: 'the subscriber to hear resources/updated' });
    assert.equal(updates.subscriber[0], uri);
    await new Promise((r) => setTimeout(r, 200)); // a sleep: the bystander must hear nothing within it
    assert.deepEqual(updates.bystander, [], 'a session that did not subscribe hears nothing');
    await subscriber.callTool({ name: 'web__toggle-subscriber-updates', arguments: {} });
    await subscriber.unsubscribeResource({ uri });
    await subscriber.close();
    await bystander.close();
  });

  test('cancelling a call reaches the upstream', async () => {
    const client = await connect();
    const abort = new AbortController();
    const call = client.callTool({ name: 'probe__wait_for_cancel', arguments: { tag: 'cancel-me' } }, undefined, { signal: abort.signal });
    await waitFor(() => probe.log.calls.some((c) => (c.args as { tag: string }).tag === 'cancel-me'), { what: 'the call to reach the upstream' });
    abort.abort('user pressed stop');
    await assert.rejects(call);
    await waitFor(() => probe.log.cancelled.includes('cancel-me'), { what: 'the upstream to see the cancellation' });
    await client.close();
  });

  test('concurrent calls on one session never cross: each gets its own progress and result', async () => {
    const client = await connect();
    const tags = ['a', 'b', 'c', 'd', 'e', 'f'];
    const progress = new Map<string, string[]>();
    const results = await Promise.all(
      tags.map((tag, i) =>
        client.callTool({ name: 'probe__count', arguments: { tag, steps: i + 2, delay_ms: 3 } }, undefined, {
          onprogress: (p) => progress.set(tag, [...(progress.get(tag) ?? []), String(p.message)]),
        }),
      ),
    );
    tags.forEach((tag, i) => {
      assert.equal(text(results[i]), `${tag} done after ${i + 2}`);
      assert.deepEqual(progress.get(tag), Array(i + 2).fill(tag), `progress of ${tag} only`);
    });
    const tokens = probe.log.calls.filter((c) => tags.includes((c.args as { tag: string }).tag)).map((c) => c.progressToken);
    assert.equal(new Set(tokens).size, tags.length, 'the upstream saw a distinct progress token per call');
    await client.close();
  });
});
