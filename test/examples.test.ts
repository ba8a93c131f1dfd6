/**
 * The example upstream servers, driven by the official MCP SDK clients (no mocks): the CRM over
 * Streamable HTTP with an SDK v1 client (2025 era) and an SDK v2 client (2026-07-28), the HR
 * server over stdio. Runs from source (tsx) and compiled (dist/test → dist/examples).
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpClientTransportV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioClientTransportV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioClientTransportV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpClientTransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import { waitFor } from './support/wait-for.js';

// Source run: test/examples.test.ts + tsx; compiled run: dist/test/examples.test.js + dist/examples.
const fromSource = import.meta.url.endsWith('.ts');
const root = fileURLToPath(new URL('..', import.meta.url));
function scriptCommand(relative: string): { command: string; args: string[]; cwd: string } {
  const script = fileURLToPath(new URL(`../examples/${relative}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return { command: process.execPath, args: fromSource ? ['--import', 'tsx', script] : [script], cwd: root };
}

interface ToolResult {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content?: unknown;
}

/** The structured result of a tool call that must have succeeded. */
function structured(result: unknown): Record<string, unknown> {
  const r = result as ToolResult;
  assert.notEqual(r.isError, true, `tool call failed: ${JSON.stringify(r.content)}`);
  assert.ok(r.structuredContent, 'tool result has structuredContent');
  return r.structuredContent;
}

function errorText(result: unknown): string {
  const r = result as { isError?: boolean; content?: { type: string; text?: string }[] };
  assert.equal(r.isError, true, `expected a tool error, got ${JSON.stringify(result)}`);
  return (r.content ?? []).map((c) => c.text ?? '').join(' ');
}

describe('crm example (SDK v2 server, Streamable HTTP)', () => {
  let crm: CrmServerHandle;
  before(async () => {
    crm = await startCrmServer({ port: 0 });
  });
  after(async () => {
    await crm.close();
  });

  async function connectV1(marker: string): Promise<{ client: ClientV1; transport: HttpClientTransportV1 }> {
    const transport = new HttpClientTransportV1(new URL(crm.url), { requestInit: { headers: { 'x-test-client': marker } } });
    const client = new ClientV1({ name: 'examples-test-v1', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  }

  async function connectV2(marker: string): Promise<ClientV2> {
    const transport = new HttpClientTransportV2(new URL(crm.url), { requestInit: { headers: { 'x-test-client': marker } } });
    const client = new ClientV2({ name: 'examples-test-v2', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(transport);
    return client;
  }

  test('SDK v1 client negotiates 2025-11-25, sees the wide tool surface, and a write_contact is readable with get_contact', async () => {
    const { client, transport } = await connectV1('sdk-v1');
    try {
      assert.equal(transport.protocolVersion, '2025-11-25');
      assert.equal(client.getServerVersion()?.name, 'toolgate-example-crm');

      const { tools } = await client.listTools();
      assert.ok(tools.length >= 25, `expected at least 25 tools, got ${tools.length}`);
      const names = new Set(tools.map((t) => t.name));
      for (const name of ['write_contact', 'get_contact', 'update_deal_stage', 'add_note', 'merge_contacts', 'export_contacts', 'bulk_email', 'delete_contact']) {
        assert.ok(names.has(name), `tool ${name} is listed`);
      }
      const writeContact = tools.find((t) => t.name === 'write_contact')!;
      const props = writeContact.inputSchema.properties as Record<string, Record<string, unknown>>;
      assert.equal(props.tenant?.type, 'string');
      assert.ok(writeContact.inputSchema.required?.includes('tenant'), 'tenant is required');
      assert.equal(props.email?.format, 'email');
      assert.equal(props.first_name?.maxLength, 120);

      const written = structured(
        await client.callTool({
          name: 'write_contact',
          arguments: { tenant: 'acme', email: 'jo.brandt@northwind-traders.example', first_name: 'Jo', last_name: 'Brandt', company_id: 'co_1001', owner: 'alice' },
        }),
      );
      assert.equal(written.action, 'created');
      const id = (written.contact as { id: string }).id;
      assert.match(id, /^ct_\d+$/);

      const read = structured(await client.callTool({ name: 'get_contact', arguments: { tenant: 'acme', contact_id: id } }));
      assert.equal(read.email, 'jo.brandt@northwind-traders.example');
      assert.equal(read.last_name, 'Brandt');

      // Same email again: write_contact updates rather than duplicating.
      const again = structured(await client.callTool({ name: 'write_contact', arguments: { tenant: 'acme', email: 'jo.brandt@northwind-traders.example', title: 'Buyer' } }));
      assert.equal(again.action, 'updated');
      assert.equal((again.contact as { id: string }).id, id);

      const mine = crm.receivedHeaders().filter((h) => h['x-test-client'] === 'sdk-v1');
      assert.ok(mine.length >= 3, 'the CRM recorded the headers of this client’s requests');
      assert.ok(
        mine.some((h) => h['mcp-protocol-version'] === '2025-11-25'),
        'requests after initialize carry MCP-Protocol-Version 2025-11-25',
      );
    } finally {
      await client.close();
    }
  });

  test('SDK v2 client with version negotiation gets the 2026-07-28 era, and both eras share one store', async () => {
    const client = await connectV2('sdk-v2');
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
      const mine = crm.receivedHeaders().filter((h) => h['x-test-client'] === 'sdk-v2');
      assert.ok(mine.length > 0 && mine.every((h) => h['mcp-protocol-version'] === '2026-07-28'), 'every v2 request went out as 2026-07-28 on the wire');
      assert.ok(
        mine.every((h) => h['mcp-session-id'] === undefined),
        'the modern era is stateless: no session id',
      );

      const { tools } = await client.listTools();
      assert.ok(tools.length >= 25, `expected at least 25 tools, got ${tools.length}`);
      const writeContact = tools.find((t) => t.name === 'write_contact');
      assert.ok(writeContact, 'write_contact is listed');
      assert.ok('tenant' in (writeContact.inputSchema.properties ?? {}), 'write_contact has a tenant property');

      const written = structured(
        await client.callTool({ name: 'write_contact', arguments: { tenant: 'globex', email: 'r.patel@initech.example', first_name: 'Ravi', last_name: 'Patel' } }),
      );
      const id = (written.contact as { id: string }).id;
      const read = structured(await client.callTool({ name: 'get_contact', arguments: { tenant: 'globex', contact_id: id } }));
      assert.equal(read.first_name, 'Ravi');

      // Written in the modern era, read back by a 2025-era client: one store behind both.
      const { client: v1 } = await connectV1('sdk-v1-cross');
      try {
        const viaV1 = structured(await v1.callTool({ name: 'get_contact', arguments: { tenant: 'globex', contact_id: id } }));
        assert.equal(viaV1.email, 'r.patel@initech.example');
      } finally {
        await v1.close();
      }
    } finally {
      await client.close();
    }
  });

  test('validates like a careless server: arguments that break the advertised schema are processed anyway', async () => {
    // This is the gap toolgate's argument validation exists to close (see examples/crm/tools/advertise.ts).
    const { client } = await connectV1('careless');
    try {
      const longName = 'x'.repeat(5000); // advertised maxLength: 120
      const created = structured(
        await client.callTool({ name: 'create_contact', arguments: { tenant: 'initech', first_name: longName, last_name: 'Nobody', email: 'not-an-email' } }),
      );
      assert.equal(created.tenant, 'initech', 'an unknown tenant is silently provisioned');
      const read = structured(await client.callTool({ name: 'get_contact', arguments: { tenant: 'initech', contact_id: created.id as string } }));
      assert.equal((read.first_name as string).length, 5000);
      assert.equal(read.email, 'not-an-email');

      const deal = structured(await client.callTool({ name: 'update_deal_stage', arguments: { tenant: 'acme', deal_id: 'dl_1002', stage: 'signed-in-blood' } }));
      assert.equal((deal.deal as { stage: string }).stage, 'signed-in-blood', 'an out-of-enum stage is stored');

      // What it does check: the required keys are present.
      const missing = await client.callTool({ name: 'get_contact', arguments: { tenant: 'acme' } });
      assert.match(errorText(missing), /contact_id/);
    } finally {
      await client.close();
    }
  });

  test('records are per tenant: an acme id is not found under globex', async () => {
    const { client } = await connectV1('tenancy');
    try {
      const acme = structured(await client.callTool({ name: 'get_contact', arguments: { tenant: 'acme', contact_id: 'ct_1001' } }));
      assert.equal(acme.last_name, 'Whitfield');
      const cross = await client.callTool({ name: 'get_contact', arguments: { tenant: 'globex', contact_id: 'ct_1001' } });
      assert.match(errorText(cross), /ct_1001 not found in tenant globex/);
    } finally {
      await client.close();
    }
  });

  test('receivedToolCalls lists each tools/call with its arguments as it arrived', async () => {
    const before = crm.receivedToolCalls().length;
    const { client } = await connectV1('calls');
    try {
      await client.callTool({ name: 'search_deals', arguments: { tenant: 'acme', stage: 'proposal' } });
      const calls = crm.receivedToolCalls().slice(before);
      assert.deepEqual(calls, [{ name: 'search_deals', arguments: { tenant: 'acme', stage: 'proposal' } }]);
    } finally {
      await client.close();
    }
  });

  test('runs as a script: prints its URL, serves MCP there, and exits 0 on SIGTERM', async () => {
    const { command, args, cwd } = scriptCommand('crm/server');
    const child = spawn(command, [...args, '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      assert.match(line, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const { client, transport } = await (async () => {
        const transport = new HttpClientTransportV1(new URL(line));
        const client = new ClientV1({ name: 'examples-test-cli', version: '1.0.0' });
        await client.connect(transport);
        return { client, transport };
      })();
      assert.equal(transport.protocolVersion, '2025-11-25');
      await client.close();
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
    }
  });
});

describe('hr example (SDK v1 server, stdio)', () => {
  test('SDK v1 stdio client: read_employee returns bob of acme HR; other tenants and bad input are refused', async () => {
    const { command, args, cwd } = scriptCommand('hr/server');
    const transport = new StdioClientTransportV1({ command, args, cwd, stderr: 'ignore' });
    const client = new ClientV1({ name: 'examples-test-hr', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['get_org_chart', 'list_employees', 'read_employee', 'search_employees', 'terminate_employee', 'update_salary']);
      const readEmployee = tools.find((t) => t.name === 'read_employee')!;
      assert.ok('tenant' in (readEmployee.inputSchema.properties ?? {}));

      const bob = structured(await client.callTool({ name: 'read_employee', arguments: { tenant: 'acme', employee_id: 'E1002' } }));
      assert.equal(bob.username, 'bob');
      assert.equal(bob.department, 'HR');
      assert.equal((bob.salary as { currency: string }).currency, 'EUR');

      const found = structured(await client.callTool({ name: 'search_employees', arguments: { tenant: 'acme', query: 'alice' } }));
      assert.equal((found.employees as { department: string }[])[0]?.department, 'Sales');

      // HR scopes lookups by tenant, unlike the CRM.
      const cross = await client.callTool({ name: 'read_employee', arguments: { tenant: 'globex', employee_id: 'E1002' } });
      assert.match(errorText(cross), /E1002 not found in tenant globex/);
      const unknown = await client.callTool({ name: 'list_employees', arguments: { tenant: 'initech' } });
      assert.match(errorText(unknown), /unknown tenant initech/);

      // And SDK v1 enforces the schema: a negative salary never reaches the handler.
      const negative = await client.callTool({
        name: 'update_salary',
        arguments: { tenant: 'acme', employee_id: 'E1004', amount: -1, currency: 'EUR', effective_date: '2026-05-01', reason: 'typo' },
      });
      assert.match(errorText(negative), /amount/);
      const after = structured(await client.callTool({ name: 'read_employee', arguments: { tenant: 'acme', employee_id: 'E1004' } }));
      assert.equal((after.salary as { amount: number }).amount, 72000);

      const raised = structured(
        await client.callTool({
          name: 'update_salary',
          arguments: { tenant: 'acme', employee_id: 'E1004', amount: 76000, currency: 'EUR', effective_date: '2026-05-01', reason: 'annual review' },
        }),
      );
      assert.equal((raised.previous_salary as { amount: number }).amount, 72000);
    } finally {
      await client.close();
    }
  });

  test('speaks the 2025 era only: an SDK v2 client negotiating automatically falls back to initialize', async () => {
    const { command, args, cwd } = scriptCommand('hr/server');
    const client = new ClientV2({ name: 'examples-test-hr-v2', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StdioClientTransportV2({ command, args, cwd, stderr: 'ignore' }));
    try {
      assert.equal(client.getProtocolEra(), 'legacy');
      assert.equal(client.getNegotiatedProtocolVersion(), '2025-11-25');
      const carol = structured(await client.callTool({ name: 'read_employee', arguments: { tenant: 'globex', employee_id: 'E2003' } }));
      assert.equal(carol.username, 'carol');
    } finally {
      await client.close();
    }
  });

  test('writes nothing but protocol messages to stdout; its log goes to stderr', async () => {
    const { command, args, cwd } = scriptCommand('hr/server');
    const child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdoutLines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => stdoutLines.push(l));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };
      child.stdin.write(`${JSON.stringify(initialize)}\n`);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
      await waitFor(() => stdoutLines.length >= 2, { what: 'two responses on stdout', timeoutMs: 15_000 });
      const messages = stdoutLines.map((l) => JSON.parse(l) as { id?: number; result?: Record<string, unknown> });
      assert.deepEqual(
        messages.map((m) => m.id),
        [1, 2],
        'stdout holds exactly the two responses',
      );
      assert.equal(messages[0]?.result?.protocolVersion, '2025-11-25');
      assert.match(stderr, /hr: example HR MCP server ready/);
    } finally {
      const exited = once(child, 'exit');
      child.stdin.end(); // end of input is how a stdio client says goodbye
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
      assert.equal(stdoutLines.length, 2, 'nothing else was printed to stdout');
    }
  });
});
