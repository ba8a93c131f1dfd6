/**
 * A per-call token replayed after the upstream restarts. The example CRM runs as its own process
 * with @toolgate/verify; a call goes through a real gateway; a small forwarding proxy between the
 * two (the only addition, there so the test can see the request) captures the per-call token and
 * body. The CRM is killed and started again on the same port, and the captured request is sent
 * straight to it. With the replay file (the default) it is refused, ERR_TOKEN_REPLAYED, and no
 * tool runs; with `--replay memory` the restarted process has forgotten the token and runs the
 * call again — what the file store prevents.
 *
 * The replay never passes the gateway (it is sent to the upstream directly, as an attacker who
 * captured it would), so the refusal is recorded by the CRM's answer and its log, not by the
 * gateway's audit log; the original call's decision record is checked instead.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { exampleCommand } from '../src/cli/demo.js';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { gatewayWith } from './support/gateway.js';
import { freePort, stop } from './support/servers.js';
import { tempHome } from './support/temp-home.js';
import { waitFor } from './support/wait-for.js';

interface Crm {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stderr (it logs one line per verified call). */
  log(): string;
}

/** Starts examples/crm as its own process; resolves once it printed its URL. */
async function startCrm(port: number, jwksUrl: string, replay: string[], cwd: string): Promise<Crm> {
  const crm = exampleCommand('crm');
  // Run in a temporary folder (the replay file's default place is under the working directory),
  // so the tsx loader, when running from source, is named by its full path.
  const args = crm.args.map((a) => (a === 'tsx' ? import.meta.resolve('tsx') : a));
  const child = spawn(crm.command, [...args, '--port', String(port), '--jwks-url', jwksUrl, ...replay], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the CRM exited with ${child.exitCode}: ${err}`);
      return /^(http:\S+)$/m.exec(out)?.[1];
    },
    { what: 'the CRM to print its URL', timeoutMs: 30_000, intervalMs: 50 },
  );
  return { child, url, log: () => err };
}

interface Captured {
  headers: IncomingHttpHeaders;
  body: string;
}

/** Forwards every request to `target`, keeping each tools/call request as it went upstream. */
async function startCapturingProxy(target: () => string): Promise<{ url: string; calls: Captured[]; server: Server }> {
  const calls: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (body.includes('"tools/call"')) calls.push({ headers: { ...req.headers }, body });
      const to = new URL(target());
      const upstream = request({ hostname: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`, calls, server };
}

/** Sends a captured request again, straight to the CRM: its headers (but Host and length) and body. */
async function replay(crmUrl: string, captured: Captured): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(captured.headers)) {
    if (typeof value === 'string' && !['host', 'content-length', 'connection', 'transfer-encoding'].includes(name)) headers[name] = value;
  }
  const res = await fetch(crmUrl, { method: 'POST', headers, body: captured.body });
  return { status: res.status, text: await res.text() };
}

function jtiOf(authorization: string | string[] | undefined): string {
  const token = String(authorization).replace(/^Bearer /, '');
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
}

const CALL_LOG = /crm: search_contacts for alice by sales-bot/g;

/**
 * One call through the gateway, then the CRM is killed (SIGKILL: no clean shutdown) and started
 * again with the same arguments; returns what the replay got and what the second process logged.
 */
async function callRestartReplay(replayArgs: string[]) {
  const state = tempHome('toolgate-replay-');
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => state.remove()];
  try {
    const crmPort = await freePort();
    const gatewayPort = await freePort();
    const jwksUrl = `http://127.0.0.1:${gatewayPort}/.well-known/jwks.json`;
    let crm = await startCrm(crmPort, jwksUrl, replayArgs, state.path);
    cleanups.push(() => stop(crm.child));
    const proxy = await startCapturingProxy(() => crm.url);
    cleanups.push(() => new Promise((r) => proxy.server.close(r)));
    proxy.server.on('connection', (s) => cleanups.push(() => s.destroy()));
    const audit = new MemoryAuditSink();
    const gateway: RunningGateway = await gatewayWith(
      `listener:
  port: ${gatewayPort}
credentials:
  keys: { ephemeral: true }
  token_lifetime_seconds: 120
upstreams:
  - id: crm
    url: ${proxy.url}
    credential: { audience: ${JSON.stringify(crm.url)}, scopes: { search_contacts: [crm.read] } }
`,
      { identity: acceptAnyBearerForTests({ agent: 'sales-bot', user: 'alice' }), audit },
    );
    cleanups.push(() => gateway.close());
    const client = new Client({ name: 'replay-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer client' } } }));
    cleanups.push(() => client.close());

    const result = await client.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'a' } });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.equal(proxy.calls.length, 1, 'one tools/call went upstream');
    const captured = proxy.calls[0]!;
    assert.match(String(captured.headers.authorization), /^Bearer ey/);
    const decision = audit.events.find((e) => e.kind === 'decision');
    assert.equal(decision?.decision?.verdict, 'allow');
    assert.equal(crm.log().match(CALL_LOG)?.length, 1, 'the first process ran the call');

    crm.child.kill('SIGKILL');
    await new Promise((r) => crm.child.once('exit', r));
    crm = await startCrm(crmPort, jwksUrl, replayArgs, state.path);
    const second = crm;
    const answer = await replay(second.url, captured);
    return { answer, secondLog: second.log(), jti: jtiOf(captured.headers.authorization), statePath: state.path };
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

describe('a per-call token replayed after the upstream restarts', () => {
  test('CRM with the replay file (default), killed and restarted: the captured token and body sent again → 401 ERR_TOKEN_REPLAYED, no tool runs', async () => {
    const { answer, secondLog } = await callRestartReplay([]);
    assert.equal(answer.status, 401, answer.text);
    const body = JSON.parse(answer.text) as { error: { data: { code: string } } };
    assert.equal(body.error.data.code, 'ERR_TOKEN_REPLAYED');
    assert.equal(secondLog.match(CALL_LOG), null, 'the restarted CRM ran no tool');
  });

  test('the replay file holds the used jti before the call is answered (a line "<expires-at-ms> <jti>")', async () => {
    const state = tempHome('toolgate-replay-file-');
    try {
      const { answer, jti } = await callRestartReplay(['--replay-file', join(state.path, 'used')]);
      assert.equal(answer.status, 401);
      assert.match(readFileSync(join(state.path, 'used'), 'utf8'), new RegExp(`^\\d+ ${jti}$`, 'm'));
    } finally {
      state.remove();
    }
  });

  test('CRM with --replay memory, killed and restarted: the same replay is accepted and the tool runs again (what the file store prevents)', async () => {
    const { answer, secondLog } = await callRestartReplay(['--replay', 'memory']);
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /"result"/);
    assert.equal(secondLog.match(CALL_LOG)?.length, 1, 'the restarted CRM ran the replayed call');
  });
});
