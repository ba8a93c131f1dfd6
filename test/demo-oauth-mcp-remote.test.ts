/**
 * A real OAuth client against `toolgate demo`: mcp-remote (npm), the stdio↔remote bridge many
 * desktop MCP clients use, as a child process, driven over stdio by the official SDK client.
 * It finds the demo's authorization server from the gateway's 401 and protected-resource
 * metadata, registers itself dynamically, runs authorization code + PKCE with the gateway as
 * resource (RFC 8707), and steps up on a 403 insufficient_scope. The only stand-in is the
 * browser: a script that records the URL mcp-remote opens, followed by a real HTTP client
 * that signs in as a demo user (test/support/scripted-browser.ts).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { type RunningDemo, startDemo } from '../src/cli/demo.js';
import { ScriptedBrowser } from './support/scripted-browser.js';
import { tempHome } from './support/temp-home.js';
import { waitFor } from './support/wait-for.js';

const MCP_REMOTE = fileURLToPath(new URL('../node_modules/mcp-remote/dist/proxy.js', import.meta.url));

interface DecisionBody {
  verdict: string;
  policies: string[];
  principal: { user?: string; scopes: string[] };
}

describe('mcp-remote against toolgate demo', { skip: existsSync(MCP_REMOTE) ? false : 'mcp-remote is not installed (a devDependency)', timeout: 120_000 }, () => {
  const home = tempHome('toolgate-demo-oauth-');
  let demo: RunningDemo;
  let browser: ScriptedBrowser;
  let client: Client;
  const printed: string[] = [];

  before(async () => {
    demo = await startDemo({ port: 0, crmPort: 0, authPort: 0, home: join(home.path, 'state') });
    browser = new ScriptedBrowser(home.path);
  });

  after(async () => {
    await client?.close().catch(() => {});
    await demo?.close();
    home.remove();
  });

  it('signs in by itself (discovery, dynamic registration, code + PKCE for the gateway resource), lists tools and calls one', async (t) => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, demo.gateway.url, '--authorize-param', 'login_hint=alice', '--auth-timeout', '60'],
      // Only what mcp-remote needs: its token store under the temporary home, our "browser", no desktop.
      env: { PATH: process.env.PATH ?? '', HOME: home.path, MCP_REMOTE_CONFIG_DIR: join(home.path, 'mcp-auth'), BROWSER: browser.executable },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => printed.push(chunk.toString()));
    client = new Client({ name: 'toolgate-test', version: '1' });
    const connected = client.connect(transport);

    const authorizationUrl = new URL(await browser.nextUrl('mcp-remote to open the authorization URL'));
    assert.equal(authorizationUrl.origin, demo.authorizationServer.issuer, 'found through the protected-resource metadata');
    assert.equal(authorizationUrl.searchParams.get('resource'), demo.gateway.url, 'RFC 8707 resource = the gateway');
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorizationUrl.searchParams.get('response_type'), 'code');
    const clientId = authorizationUrl.searchParams.get('client_id')!;
    assert.ok(clientId && !['sales-bot', 'hr-assistant', 'report-bot', 'cleanup-bot'].includes(clientId), `a dynamically registered client id, got ${clientId}`);
    const signIn = await browser.signIn(authorizationUrl.href, 'alice');
    assert.equal(signIn.callbackStatus, 200, `mcp-remote's callback answered ${signIn.callbackStatus}`);
    await connected;

    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    t.diagnostic(`scope asked for: ${signIn.scope}; tools: ${tools.join(' ')}`);
    assert.ok(tools.includes('hr__read_employee'), `hr reads are open to any agent with hr.employee.read: ${tools.join(' ')}`);
    assert.ok(!tools.includes('hr__update_salary'), 'hr writes need hr.employee.write, which the first sign-in did not ask for');
    const result = await client.callTool({ name: 'hr__read_employee', arguments: { tenant: 'acme', employee_id: 'E1004' } });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.match(JSON.stringify(result.content), /alice/);
  });

  it('steps up on a write lacking hr.employee.write: the 403 names the scope, mcp-remote signs in again for it, and the retried call goes through', async (t) => {
    const salary = { tenant: 'acme', employee_id: 'E1004', amount: 91_000, currency: 'EUR', effective_date: '2027-01-01', reason: 'step-up test' };
    const call = client.callTool({ name: 'hr__update_salary', arguments: salary });

    const stepUpUrl = new URL(await browser.nextUrl('mcp-remote to open a second authorization URL (step-up)'));
    const scope = (stepUpUrl.searchParams.get('scope') ?? '').split(' ');
    assert.ok(scope.includes('hr.employee.write'), `the step-up asks for the scope the 403 named: ${scope.join(' ')}`);
    assert.ok(scope.includes('hr.employee.read'), `and keeps the scopes it had: ${scope.join(' ')}`);
    const signIn = await browser.signIn(stepUpUrl.href, 'alice');
    assert.equal(signIn.callbackStatus, 200);
    const result = await call;
    assert.notEqual(result.isError, true, JSON.stringify(result));

    const output = printed.join('');
    t.diagnostic(`mcp-remote printed:\n${output}`);
    assert.match(output, /hr\.employee\.write/, 'mcp-remote tells the user which scope it is authorizing for');

    // The gateway refused the first attempt (missing scope, never forwarded) and allowed the retry.
    const store = new SqliteAuditStore(join(home.path, 'state', 'audit.db'), { readonly: true });
    await store.open();
    try {
      const rows = await store.query({ kind: 'decision', tool: 'hr__update_salary' });
      const decisions = rows.map((r) => JSON.parse(r.body!) as DecisionBody);
      // The outcome record is written as the answer goes out: wait for it rather than race it.
      const outcomeLinks = async () =>
        (await store.query({ kind: 'outcome' })).map((r) => (JSON.parse(r.body!) as { links: { decision: { position: number } } }).links.decision.position);
      const linked = await waitFor(
        async () => {
          const links = await outcomeLinks();
          return links.includes(rows[1]!.seq) && links;
        },
        { what: 'the outcome record of the allowed salary update' },
      );
      assert.deepEqual(
        decisions.map((d) => [d.verdict, d.policies, d.principal.user, d.principal.scopes.includes('hr.employee.write')]),
        [
          ['deny', ['hr-write-needs-scope-and-user'], 'alice', false],
          ['allow', ['hr-write-with-scope-and-user'], 'alice', true],
        ],
      );
      assert.deepEqual(
        rows.map((r) => linked.includes(r.seq)),
        [false, true],
        'only the allowed call reached the HR server (has an outcome)',
      );
    } finally {
      await store.close();
    }
  });
});
