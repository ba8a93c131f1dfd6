/**
 * The development issuer: a gateway with `auth.dev_issuer: true` creates its key file; the
 * `toolgate token` command (run as a real process) signs with that key for that gateway's
 * audience; the gateway accepts the token, and the principal carries agent, user, tenant and
 * scopes. Without `dev_issuer`, the same token is refused.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RunningGateway } from '../src/gateway.js';
import { DEV_ISSUER_JWKS_PATH } from '../src/identity/assembly.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

let dir: string;
let file: string;
let probe: ProbeServer;
let gateway: RunningGateway;
const audit = new MemoryAuditSink();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'toolgate-dev-issuer-'));
  file = join(dir, 'dev-issuer.json');
  probe = await startProbeServer();
  gateway = await gatewayWith(`auth:\n  dev_issuer: true\n  dev_issuer_file: ${file}\nupstreams:\n  - id: crm\n    url: ${probe.url}\n    scopes: [crm.read]\n`, { audit });
});

after(async () => {
  await gateway?.close();
  await probe?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function token(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', MAIN, 'token', '--issuer-file', file, ...args], { cwd: ROOT });
  return stdout.trim();
}

test('the key file is private (0600) and names this gateway as the audience', () => {
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(saved.audience, gateway.url);
  assert.equal(saved.issuer, 'urn:toolgate:dev-issuer');
});

test('toolgate token --agent sales-bot --user alice --scope "crm.read crm.write" is accepted; the principal says who', async () => {
  const t = await token('--agent', 'sales-bot', '--user', 'alice', '--scope', 'crm.read crm.write');
  const res = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${t}` }, body: JSON.stringify(INIT) });
  assert.equal(res.status, 200, await res.text());
  const p = gateway.sessions.get(res.headers.get('mcp-session-id')!)!.principal;
  assert.deepEqual(
    { agent: p.agent, user: p.user, tenant: p.tenant, scopes: p.scopes, issuer: p.issuer },
    { agent: 'sales-bot', user: 'alice', tenant: 'acme', scopes: ['crm.read', 'crm.write'], issuer: 'urn:toolgate:dev-issuer' },
  );
});

test('an agent-only token (no --user) has no user; without crm.read it sees no crm tools', async () => {
  const t = await token('--agent', 'report-bot');
  const h = { ...MCP_HEADERS, authorization: `Bearer ${t}` };
  const init = await fetch(gateway.url, { method: 'POST', headers: h, body: JSON.stringify(INIT) });
  const sid = init.headers.get('mcp-session-id')!;
  assert.equal(gateway.sessions.get(sid)!.principal.user, undefined);
  const list = await (
    await fetch(gateway.url, { method: 'POST', headers: { ...h, 'mcp-session-id': sid }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) })
  ).json();
  assert.deepEqual(list.result.tools, []);
});

test("the development issuer's public key is served as a JWKS", async () => {
  const res = await fetch(`${new URL(gateway.url).origin}${DEV_ISSUER_JWKS_PATH}`);
  const jwks = await res.json();
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0].crv, 'Ed25519');
  assert.equal(jwks.keys[0].d, undefined, 'no private part');
});

test('without dev_issuer in the config, a dev token is refused (wrong issuer)', async () => {
  const other = await gatewayWith(
    `auth:\n  issuers:\n    - issuer: https://issuer.test\n      jwks_uri: https://issuer.test/jwks\nupstreams:\n  - id: crm\n    url: ${probe.url}\n`,
    { audit },
  );
  try {
    const t = await token('--agent', 'sales-bot');
    const res = await fetch(other.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${t}` }, body: JSON.stringify(INIT) });
    assert.equal(res.status, 401);
    assert.equal(audit.events.at(-1)?.detail?.code, 'ERR_TOKEN_ISSUER');
    assert.equal((await fetch(`${new URL(other.url).origin}${DEV_ISSUER_JWKS_PATH}`)).status, 404);
  } finally {
    await other.close();
  }
});

test('toolgate token without a key file says how to get one', async () => {
  await assert.rejects(
    run(process.execPath, ['--import', 'tsx', MAIN, 'token', '--agent', 'x', '--issuer-file', join(dir, 'missing.json')], { cwd: ROOT }),
    (err: { stderr: string; code: number }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /does not exist; start `toolgate demo`/);
      return true;
    },
  );
});
