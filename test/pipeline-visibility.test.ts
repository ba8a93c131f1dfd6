/**
 * An item a caller may not see answers the same whatever is asked of it: a hidden tool called
 * with good arguments, with bad arguments, and a name that does not exist get one answer (same
 * HTTP status, same JSON-RPC error but for the name), so hidden items cannot be enumerated or
 * their schemas probed. Both kinds of hiding are covered: the upstream's baseline scopes
 * (`vault` needs vault.read; answered 403 insufficient_scope) and a policy that does not let the
 * caller list the item (`docs`; answered "not found"). The upstream is never called.
 *
 * Also here: the decision record of a tool call carries the tool-definition hash (`toolHash`).
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { pendingRecord } from '../src/audit/record.js';
import { Redactor } from '../src/audit/redaction.js';
import { definitionHash } from '../src/catalog/pinning.js';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';
import type { HttpRpcAnswer } from './support/rpc-answer.js';
import { as, headerIdentityForTests } from './support/test-identity.js';

/** A small upstream with one tool, one prompt, one resource and one template; counts what reaches it. */
interface Upstream {
  url: string;
  calls: string[];
  close(): Promise<void>;
}

async function startUpstream(scheme: string): Promise<Upstream> {
  const calls: string[] = [];
  const build = (): McpServer => {
    const s = new McpServer({ name: scheme, version: '1.0.0' });
    s.registerTool('lookup', { description: 'Looks a contact up.', inputSchema: { contact_id: z.string().regex(/^ct_[0-9]{4}$/) } }, async ({ contact_id }) => {
      calls.push(`tools/call lookup ${contact_id}`);
      return { content: [{ type: 'text', text: `found ${contact_id}` }] };
    });
    s.registerPrompt('brief', { description: 'A briefing.', argsSchema: { topic: z.string() } }, async ({ topic }) => {
      calls.push(`prompts/get brief ${topic}`);
      return { messages: [{ role: 'user', content: { type: 'text', text: `brief on ${topic}` } }] };
    });
    s.registerResource('note', `${scheme}://notes/1`, { description: 'A note.' }, async (uri) => {
      calls.push(`resources/read ${uri.href}`);
      return { contents: [{ uri: uri.href, text: 'note 1' }] };
    });
    s.registerResource('notes', new ResourceTemplate(`${scheme}://notes/{id}`, { list: undefined }), { description: 'Any note.' }, async (uri) => {
      calls.push(`resources/read ${uri.href}`);
      return { contents: [{ uri: uri.href, text: 'a note' }] };
    });
    return s;
  };
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const http: Server = createServer(async (req, res) => {
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (!transport) {
      if (req.method !== 'POST' || sid !== undefined) {
        res.writeHead(sid ? 404 : 400).end();
        return;
      }
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void transports.set(id, transport!) });
      await build().connect(transport);
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`;
  return {
    url,
    calls,
    async close() {
      for (const t of transports.values()) await t.close().catch(() => undefined);
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** Everybody may use vault (only its baseline scope hides it); only insider may see docs. */
const POLICIES = `
@id("vault-tools")
permit (principal, action in Action::"server:vault", resource);

@id("prompts-and-resources")
permit (principal, action in [Action::"get_prompt", Action::"read_resource"], resource)
when { resource.upstream == "vault" };

@id("insider-everything")
permit (principal == Agent::"insider", action, resource);
`;

let dir: string;
let vault: Upstream;
let docs: Upstream;
let gateway: RunningGateway;
const audit = new MemoryAuditSink();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'toolgate-visibility-'));
  writeFileSync(join(dir, 'access.cedar'), POLICIES);
  vault = await startUpstream('vault');
  docs = await startUpstream('docs');
  const yaml = [
    'upstreams:',
    '  - id: vault',
    `    url: ${vault.url}`,
    '    scopes: [vault.read]',
    '  - id: docs',
    `    url: ${docs.url}`,
    'policy:',
    `  files: ${JSON.stringify(dir)}`,
  ].join('\n');
  gateway = await gatewayWith(yaml, { identity: headerIdentityForTests, audit });
});

after(async () => {
  await gateway?.close();
  await vault?.close();
  await docs?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One session as one principal; answers as { status, body } with the id removed. */
class Client {
  private sid?: string;
  constructor(private readonly headers: Record<string, string>) {}

  async rpc(method: string, params: Record<string, unknown>): Promise<HttpRpcAnswer> {
    if (!this.sid) await this.open();
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...this.headers, 'mcp-session-id': this.sid! },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }),
    });
    const text = await res.text();
    const body = (res.headers.get('content-type') ?? '').includes('text/event-stream')
      ? text
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => JSON.parse(l.slice(5)))
          .find((m) => 'id' in m)
      : JSON.parse(text);
    return { status: res.status, body };
  }

  private async open(): Promise<void> {
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'visibility', version: '1' } } };
    const res = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, ...this.headers }, body: JSON.stringify(init) });
    await res.text();
    this.sid = res.headers.get('mcp-session-id') ?? undefined;
    assert.ok(this.sid, `initialize answered ${res.status} without a session`);
    await fetch(gateway.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...this.headers, 'mcp-session-id': this.sid },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
  }
}

/** The answer with the asked-for name replaced, so answers about different names compare equal. */
function shape(answer: { status: number; body: unknown }, name: string): string {
  return JSON.stringify(answer).split(name).join('<name>');
}

/** Asks each question and asserts one answer for all; the upstream is not called. Returns it. */
async function sameAnswer(client: Client, upstream: Upstream, questions: Array<{ method: string; params: Record<string, unknown>; name: string }>): Promise<HttpRpcAnswer> {
  const before = upstream.calls.length;
  const answers = [];
  for (const q of questions) answers.push(await client.rpc(q.method, q.params));
  const first = shape(answers[0]!, questions[0]!.name);
  for (let i = 1; i < answers.length; i++)
    assert.equal(
      shape(answers[i]!, questions[i]!.name),
      first,
      `${questions[i]!.method} ${JSON.stringify(questions[i]!.params)} answers like ${questions[0]!.method} ${JSON.stringify(questions[0]!.params)}`,
    );
  assert.deepEqual(upstream.calls.slice(before), [], 'the upstream was not called');
  return answers[0]!;
}

const GOOD = { contact_id: 'ct_1001' };
const BAD = { contact_id: 'nope' };

describe('the caller who may see everything (the answers below are about hidden items, not broken ones)', () => {
  test('insider with vault.read: lists, calls with good arguments, and gets the schema error for bad ones', async () => {
    const c = new Client(as('insider', { scopes: 'vault.read' }));
    const names = ((await c.rpc('tools/list', {})).body.result.tools as Array<{ name: string }>).map((t) => t.name).sort();
    assert.deepEqual(names, ['docs__lookup', 'vault__lookup']);
    assert.match(JSON.stringify((await c.rpc('tools/call', { name: 'vault__lookup', arguments: GOOD })).body), /found ct_1001/);
    assert.match(JSON.stringify((await c.rpc('tools/call', { name: 'docs__lookup', arguments: BAD })).body), /contact_id must match pattern/);
  });
});

describe('hidden by the upstream baseline scope (vault needs vault.read): 403 insufficient_scope for all', () => {
  const outsider = () => new Client(as('outsider', { scopes: 'docs.read' }));

  test('lists show nothing of vault', async () => {
    const c = outsider();
    const tools = (await c.rpc('tools/list', {})).body.result.tools as Array<{ name: string }>;
    assert.ok(!tools.some((t) => t.name.startsWith('vault__')), JSON.stringify(tools));
    const prompts = (await c.rpc('prompts/list', {})).body.result.prompts as Array<{ name: string }>;
    assert.ok(!prompts.some((p) => p.name.startsWith('vault__')), JSON.stringify(prompts));
    const resources = (await c.rpc('resources/list', {})).body.result.resources as Array<{ uri: string }>;
    assert.ok(!resources.some((r) => r.uri.startsWith('vault:')), JSON.stringify(resources));
  });

  test('tools/call: good arguments, bad arguments, a name that does not exist', async () => {
    const a = await sameAnswer(outsider(), vault, [
      { method: 'tools/call', params: { name: 'vault__lookup', arguments: GOOD }, name: 'vault__lookup' },
      { method: 'tools/call', params: { name: 'vault__lookup', arguments: BAD }, name: 'vault__lookup' },
      { method: 'tools/call', params: { name: 'vault__no_such_tool', arguments: GOOD }, name: 'vault__no_such_tool' },
    ]);
    assert.equal(a.status, 403);
    assert.deepEqual(a.body.error.data, { scopes: ['vault.read'] });
    assert.doesNotMatch(JSON.stringify(a.body), /pattern/);
  });

  test('prompts/get: the prompt and a name that does not exist', async () => {
    const a = await sameAnswer(outsider(), vault, [
      { method: 'prompts/get', params: { name: 'vault__brief', arguments: { topic: 't' } }, name: 'vault__brief' },
      { method: 'prompts/get', params: { name: 'vault__brief', arguments: {} }, name: 'vault__brief' },
      { method: 'prompts/get', params: { name: 'vault__no_such_prompt', arguments: { topic: 't' } }, name: 'vault__no_such_prompt' },
    ]);
    assert.equal(a.status, 403);
  });

  test('resources/read: the listed resource and one under its template that does not exist', async () => {
    const a = await sameAnswer(outsider(), vault, [
      { method: 'resources/read', params: { uri: 'vault://notes/1' }, name: 'vault://notes/1' },
      { method: 'resources/read', params: { uri: 'vault://notes/999' }, name: 'vault://notes/999' },
    ]);
    assert.equal(a.status, 403);
  });

  test('the refusal is audited with the reason', async () => {
    await outsider().rpc('tools/call', { name: 'vault__lookup', arguments: BAD });
    const e = audit.events.filter((x) => x.kind === 'auth' && x.invocation?.exposedName === 'vault__lookup').at(-1);
    assert.equal(e?.detail?.outcome, 'insufficient_scope');
    assert.match(String(e?.detail?.reason), /lacks baseline scope\(s\) vault.read of upstream vault/);
    assert.ok(!audit.events.some((x) => x.kind === 'arguments' && x.principal?.agent === 'outsider'), 'no argument check ran for a hidden tool');
  });
});

describe('hidden by policy (only insider may list docs): "not found" for all', () => {
  const outsider = () => new Client(as('outsider', { scopes: 'vault.read' }));

  test('lists show nothing of docs', async () => {
    const c = outsider();
    const tools = (await c.rpc('tools/list', {})).body.result.tools as Array<{ name: string }>;
    assert.deepEqual(
      tools.map((t) => t.name),
      ['vault__lookup'],
    );
    const resources = (await c.rpc('resources/list', {})).body.result.resources as Array<{ uri: string }>;
    assert.deepEqual(
      resources.map((r) => r.uri),
      ['vault://notes/1'],
    );
  });

  test('tools/call: good arguments, bad arguments, a name that does not exist', async () => {
    const a = await sameAnswer(outsider(), docs, [
      { method: 'tools/call', params: { name: 'docs__lookup', arguments: GOOD }, name: 'docs__lookup' },
      { method: 'tools/call', params: { name: 'docs__lookup', arguments: BAD }, name: 'docs__lookup' },
      { method: 'tools/call', params: { name: 'docs__no_such_tool', arguments: GOOD }, name: 'docs__no_such_tool' },
    ]);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.error, { code: -32602, message: 'Tool docs__lookup not found' });
  });

  test('prompts/get: the prompt and a name that does not exist', async () => {
    const a = await sameAnswer(outsider(), docs, [
      { method: 'prompts/get', params: { name: 'docs__brief', arguments: { topic: 't' } }, name: 'docs__brief' },
      { method: 'prompts/get', params: { name: 'docs__no_such_prompt', arguments: { topic: 't' } }, name: 'docs__no_such_prompt' },
    ]);
    assert.deepEqual(a.body.error, { code: -32602, message: 'Prompt docs__brief not found' });
  });

  test('resources/read: the listed resource, one under its template, and a URI nobody serves', async () => {
    const a = await sameAnswer(outsider(), docs, [
      { method: 'resources/read', params: { uri: 'docs://notes/1' }, name: 'docs://notes/1' },
      { method: 'resources/read', params: { uri: 'docs://notes/999' }, name: 'docs://notes/999' },
      { method: 'resources/read', params: { uri: 'nowhere://x' }, name: 'nowhere://x' },
    ]);
    assert.equal(a.body.error.message, 'Resource not found: docs://notes/1');
  });

  test('the hidden call is audited as a denial that hid it; no argument check ran', async () => {
    await outsider().rpc('tools/call', { name: 'docs__lookup', arguments: BAD });
    const e = audit.events.filter((x) => x.kind === 'decision' && x.invocation?.exposedName === 'docs__lookup' && x.principal?.agent === 'outsider').at(-1);
    assert.equal(e?.decision?.verdict, 'deny');
    assert.deepEqual(e?.detail, { hidden: true });
    assert.ok(!audit.events.some((x) => x.kind === 'arguments' && x.principal?.agent === 'outsider'), 'no argument check ran for a hidden tool');
  });
});

test('the decision record of a tool call carries the hash of the tool definition (toolHash)', async () => {
  const c = new Client(as('insider', { scopes: 'vault.read' }));
  const listed = (await c.rpc('tools/list', {})).body.result.tools as Array<Record<string, unknown>>;
  const shown = listed.find((t) => t.name === 'vault__lookup')!;
  // The hash is of the definition as the upstream lists it (its own name), as pinning hashes it.
  const expected = definitionHash({ ...shown, name: 'lookup' });
  await c.rpc('tools/call', { name: 'vault__lookup', arguments: GOOD });
  const decision = audit.events.filter((x) => x.kind === 'decision' && x.invocation?.exposedName === 'vault__lookup' && x.principal?.agent === 'insider').at(-1);
  assert.ok(decision, 'a decision was audited');
  const record = pendingRecord(decision, new Redactor({ default: 'keep', detectSecrets: false, tools: {} }, Buffer.alloc(32))).body;
  assert.equal(record.toolHash, expected);
  assert.match(record.toolHash ?? '', /^sha256:[0-9a-f]{64}$/);
});

test('a hidden call and a server-access refusal are recorded with the request trace id and instruction, like an allowed call', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const traced = { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, baggage: 'instruction.id=i-hidden' };
  // Hidden by policy (the outsider may reach vault, but policy hides docs from it) …
  await new Client({ ...as('outsider', { scopes: 'vault.read' }), ...traced }).rpc('tools/call', { name: 'docs__lookup', arguments: BAD });
  // … and refused by server access (no vault.read, the vault upstream's baseline scope).
  await new Client({ ...as('outsider', { scopes: 'docs.read' }), ...traced }).rpc('tools/call', { name: 'vault__lookup', arguments: BAD });
  const redactor = new Redactor({ default: 'keep', detectSecrets: false, tools: {} }, Buffer.alloc(32));
  for (const [kind, name] of [
    ['decision', 'docs__lookup'],
    ['auth', 'vault__lookup'],
  ] as const) {
    const event = audit.events.filter((x) => x.kind === kind && x.invocation?.exposedName === name && x.principal?.agent === 'outsider').at(-1);
    assert.ok(event, `a ${kind} record for ${name}`);
    const record = pendingRecord(event, redactor).body;
    assert.equal(record.trace, traceId, `${name}: the trace id`);
    assert.deepEqual(record.instruction, { 'instruction.id': 'i-hidden' }, `${name}: the instruction`);
  }
});
