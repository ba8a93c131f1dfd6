/**
 * Rejections a user can act on: every refused request leaves one line in the gateway's log with
 * the reason its audit record holds (never the token), `toolgate audit query` shows that reason
 * in its table, and a failing audit store never turns a 401 into a 500. A real gateway with
 * tokens from a local issuer (trusted by its JWKS file), a Cedar policy, the default SQLite
 * audit store and the probe upstream.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { RunningGateway } from '../src/gateway.js';
import type { Logger } from '../src/log.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';
import { type LocalIssuer, localIssuer } from './support/local-issuer.js';
import { tempHome } from './support/temp-home.js';
import { waitFor } from './support/wait-for.js';

const run = promisify(execFile);
const PG_URL = process.env.TOOLGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const POLICY = `@id("everything")
permit (principal, action, resource);

@id("no-forbidden-tag")
forbid (principal, action == Action::"crm/count", resource)
when { context.arguments has tag && context.arguments.tag == "forbidden" };
`;
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

let probe: ProbeServer;
before(async () => {
  probe = await startProbeServer();
});
after(async () => {
  await probe?.close();
});

/** A gateway in its own state folder, logging into `lines`. */
async function start(home: string, lines: string[], extraYaml = ''): Promise<{ gateway: RunningGateway; issuer: LocalIssuer }> {
  const issuer = await localIssuer(home);
  mkdirSync(join(home, 'policies'));
  writeFileSync(join(home, 'policies', 'crm.cedar'), POLICY);
  const logger: Logger = { log: (level, message) => lines.push(`${level} ${message}`) };
  const yaml = `${issuer.authYaml}upstreams:\n  - id: crm\n    url: ${probe.url}\n    scopes: [crm.read]\npolicy:\n  files: ${join(home, 'policies')}\n${extraYaml}`;
  return { gateway: await gatewayWith(yaml, { home, logger }), issuer };
}

function post(url: string, body: unknown, token?: string, sid?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(sid ? { 'mcp-session-id': sid } : {}) },
    body: JSON.stringify(body),
  });
}

describe('one log line per refused request, and the reason column of audit query', () => {
  const home = tempHome();
  const lines: string[] = [];
  const tokens: string[] = [];
  let gateway: RunningGateway;
  let issuer: LocalIssuer;
  let sid: string;

  before(async () => {
    ({ gateway, issuer } = await start(home.path, lines));
    const good = await issuer.sign({ aud: gateway.url });
    tokens.push(good);
    const res = await post(gateway.url, INIT, good);
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
    sid = res.headers.get('mcp-session-id')!;
    await (await post(gateway.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, good, sid)).text();
  });
  after(async () => {
    await gateway?.close();
    home.remove();
  });

  /** Sends `token` (signed with `claims`), expects `status`, and returns the one new refusal line. */
  async function refusedWith(claims: Record<string, unknown>, status: number, body: unknown = INIT, withSession = false): Promise<string> {
    const token = await issuer.sign({ aud: gateway.url, ...claims });
    tokens.push(token);
    const before = lines.length;
    const calls = probe.log.calls.length;
    const res = await post(gateway.url, body, token, withSession ? sid : undefined);
    assert.equal(res.status, status, await res.clone().text());
    await res.text();
    assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
    const line = await waitFor(() => lines.slice(before).find((l) => / refused /.test(l)), { what: 'a refusal line in the log' });
    assert.equal(lines.slice(before).filter((l) => / refused /.test(l)).length, 1, 'exactly one line for the refused request');
    return line;
  }

  test('a token for another audience: 401, and a warn line naming the audience it was issued for', async () => {
    const line = await refusedWith({ aud: 'https://elsewhere.example/mcp' }, 401);
    assert.match(line, /^warn refused POST \(ERR_TOKEN_AUDIENCE\): .*aud was "https:\/\/elsewhere\.example\/mcp".* \(request [0-9a-f-]{36}, from 127\.0\.0\.1\)$/);
  });

  test('an expired token: 401, and a warn line saying it expired', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const line = await refusedWith({ iat: past - 60, exp: past }, 401);
    assert.match(line, /^warn refused POST \(ERR_TOKEN_EXPIRED\): .*exp/);
  });

  test('a token from an unknown issuer: 401, and a warn line naming that issuer', async () => {
    const line = await refusedWith({ iss: 'https://stranger.example' }, 401);
    assert.match(line, /^warn refused POST \(ERR_TOKEN_ISSUER\): .*https:\/\/stranger\.example/);
  });

  test('a token without the upstream baseline scope crm.read, calling crm__count: 403, and a warn line naming the missing scope', async () => {
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'x', steps: 1 } } };
    const line = await refusedWith({ scope: 'other.read' }, 403, call, true);
    assert.match(
      line,
      /^warn refused tools\/call crm__count: principal lacks baseline scope\(s\) crm\.read of upstream crm \(has: other\.read\) \(agent sales-bot, user alice, request /,
    );
  });

  test('the same token calling crm__count with arguments holding 1e400: 403 as with good arguments (visibility is asked first), and the scope refusal is still recorded', async () => {
    const token = await issuer.sign({ aud: gateway.url, scope: 'other.read' });
    tokens.push(token);
    const before = lines.length;
    const calls = probe.log.calls.length;
    const body = '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"crm__count","arguments":{"tag":"x","steps":1e400}}}';
    const res = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid }, body });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="crm\.read"/);
    await res.text();
    assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
    const line = await waitFor(() => lines.slice(before).find((l) => / refused /.test(l)), { what: 'a refusal line in the log' });
    assert.match(line, /^warn refused tools\/call crm__count: principal lacks baseline scope\(s\) crm\.read/, 'recorded: the line is not the "not written" error');
  });

  test('a call policy forbids (tag "forbidden"): "not found" to the client, and a warn line naming the policy that denied it', async () => {
    const call = { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'forbidden', steps: 1 } } };
    const line = await refusedWith({}, 200, call, true);
    assert.match(line, /^warn refused tools\/call crm__count: denied by policy no-forbidden-tag \(agent sales-bot, user alice, request [0-9a-f-]{36}, session /);
  });

  test('no token at all (how OAuth clients begin): 401, and the line is at info, not warn', async () => {
    const before = lines.length;
    const res = await post(gateway.url, INIT);
    assert.equal(res.status, 401);
    await res.text();
    const line = await waitFor(() => lines.slice(before).find((l) => / refused /.test(l)), { what: 'a refusal line in the log' });
    assert.match(line, /^info refused POST \(ERR_TOKEN_MISSING\): no Authorization header/);
  });

  test('a user claim holding a line break ("mallory\\nerror forged line"), refused for scope: still exactly one line, with the break blanked', async () => {
    const call = { jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'x', steps: 1 } } };
    const token = await issuer.sign({ aud: gateway.url, sub: 'mallory\nerror forged line', scope: 'other.read' });
    tokens.push(token);
    const before = lines.length;
    const opened = await post(gateway.url, INIT, token);
    const session = opened.headers.get('mcp-session-id')!;
    await opened.text();
    const denied = await post(gateway.url, call, token, session);
    assert.equal(denied.status, 403);
    await denied.text();
    const line = await waitFor(() => lines.slice(before).find((l) => / refused /.test(l)), { what: 'a refusal line in the log' });
    assert.ok(!line.includes('\n'), JSON.stringify(line));
    assert.match(line, /user mallory error forged line/);
  });

  test('no token appears in any log line', () => {
    assert.ok(tokens.length >= 5);
    for (const token of tokens) for (const part of token.split('.')) assert.ok(!lines.some((l) => l.includes(part)), `a piece of a token in the log: ${part.slice(0, 12)}…`);
  });

  test('toolgate audit query (the CLI, as a process) shows a reason column with each refusal reason', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', MAIN, 'audit', 'query', '--home', home.path, '--limit', '1000'], {
      env: { ...process.env, TOOLGATE_HOME: home.path },
    });
    const [header, ...rows] = stdout.trimEnd().split('\n');
    assert.match(header!, /\bverdict\s+session\s+reason$/);
    const reasonAt = header!.indexOf('reason');
    const reasons = rows.map((r) => r.slice(reasonAt));
    for (const expected of [
      /aud was "https:\/\/elsewhere\.example\/mcp"/,
      /principal lacks baseline scope\(s\) crm\.read/,
      /^denied by policy no-forbidden-tag$/,
      /^no Authorization header$/,
    ]) {
      assert.ok(
        reasons.some((r) => expected.test(r)),
        `${expected} in the reason column:\n${stdout}`,
      );
    }
    const deny = rows.find((r) => r.includes('denied by policy'))!;
    assert.match(deny, /\bdecision\s+sales-bot\s+alice\s+crm__count\s+deny\b/);
  });
});

describe('a failing audit store', () => {
  test('the records table dropped under the running gateway (the store fails every write), then a token for another audience: still 401 with its challenge, not 500; the upstream is not called; one error line says the record was not written', async () => {
    const home = tempHome();
    const lines: string[] = [];
    const { gateway, issuer } = await start(home.path, lines);
    try {
      // The failure: another connection drops the table the gateway appends to, so every write
      // fails with "no such table: records" (as a corrupted or replaced database would).
      const vandal = new Database(join(home.path, 'audit.db'));
      vandal.exec('DROP TABLE records');
      vandal.close();
      const calls = probe.log.calls.length;
      const before = lines.length;
      const res = await post(gateway.url, INIT, await issuer.sign({ aud: 'https://elsewhere.example/mcp' }));
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata=".*", scope="crm\.read", error="invalid_token"/);
      assert.equal((await res.json()).error.message, 'Unauthorized: The access token was not issued for this resource');
      assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
      const line = await waitFor(() => lines.slice(before).find((l) => / refused /.test(l)), { what: 'the refusal line' });
      assert.match(line, /^error refused POST \(ERR_TOKEN_AUDIENCE\): .*aud was .*; its audit record was not written: .*no such table: records$/);
      assert.ok(!lines.some((l) => /\n\s+at /.test(l)), 'no stack trace in the log');
    } finally {
      await gateway.close();
      home.remove();
    }
  });

  test('the PostgreSQL store with its connection killed (pg_terminate_backend) under the running gateway, then a token for another audience: 401 with its challenge, not 500; one error line says the record was not written', async () => {
    const home = tempHome();
    const lines: string[] = [];
    const schema = `refusals_t${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    const { gateway, issuer } = await start(home.path, lines, `audit:\n  store: postgres\n  url: ${PG_URL}\n  schema: ${schema}\n`);
    try {
      // The failure: the server ends the gateway's audit connection (as a restart or a failover
      // would); the next write fails before the store reconnects.
      const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`toolgate audit ${schema}`.slice(0, 63)]);
      assert.ok((killed.rowCount ?? 0) >= 1, 'the audit connection was found and killed');
      const calls = probe.log.calls.length;
      const before = lines.length;
      const res = await post(gateway.url, INIT, await issuer.sign({ aud: 'https://elsewhere.example/mcp' }));
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      await res.text();
      assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
      const line = await waitFor(() => lines.slice(before).find((l) => / refused /.test(l)), { what: 'the refusal line' });
      assert.match(line, /^error refused POST \(ERR_TOKEN_AUDIENCE\): .*; its audit record was not written: /);
    } finally {
      await gateway.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      home.remove();
    }
  });
});
