/**
 * The identity layer's configuration and start-up rules, and opaque tokens by RFC 7662
 * introspection against a real authorization server.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../src/config/errors.js';
import { parseConfig } from '../src/config/load.js';
import { type StartupError, startGateway } from '../src/gateway.js';
import { silentLogger } from '../src/log.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { startProbeServer } from './fixtures/probe-server.js';
import { startAuthorizationServer } from './support/authorization-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';
import { tempHome } from './support/temp-home.js';

const UPSTREAM = 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:1/mcp\n';

function problems(yaml: string): string {
  try {
    parseConfig(yaml, 'toolgate.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

test('auth config: HS256 and none are not accepted algorithms (the error names the key)', () => {
  const msg = problems(`auth:\n  issuers:\n    - issuer: https://as.example\n      algorithms: [RS256, HS256, none]\n${UPSTREAM}`);
  assert.match(msg, /auth\.issuers\[0\]\.algorithms\[1\]: expected one of RS256, .* \(none and HS\* are never accepted\)/);
  assert.match(msg, /auth\.issuers\[0\]\.algorithms\[2\]/);
});

test('auth config: a misspelt key, an issuer that is not a URL, a bad client_certificates mode', () => {
  const msg = problems(
    `listener:\n  tls:\n    cert: a.pem\n    key: a.key\n    client_certificates: sometimes\nauth:\n  isuers: []\n  issuers:\n    - issuer: not a url\n${UPSTREAM}`,
  );
  assert.match(msg, /listener\.tls\.client_certificates: expected off, optional or required/);
  assert.match(msg, /auth\.isuers/);
  assert.match(msg, /auth\.issuers\[0\]\.issuer: expected the issuer identifier/);
});

test('auth config: defaults, relative paths against the config folder, per-upstream scopes', () => {
  const config = parseConfig(
    `auth:\n  issuers:\n    - issuer: https://as.example\n      jwks_file: keys/jwks.json\n${UPSTREAM}    scopes: [crm.read]\n`,
    '/etc/toolgate/toolgate.yaml',
    {},
  );
  assert.deepEqual(config.auth, {
    mode: 'oauth',
    issuers: [{ issuer: 'https://as.example', jwksFile: '/etc/toolgate/keys/jwks.json', algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] }],
    tokenTypes: ['at+jwt'],
    clockSkewSeconds: 30,
    maxTokenLifetimeSeconds: 86_400,
    requiredClaims: ['sub', 'jti'],
    claims: { agent: 'client_id', user: 'sub', tenant: 'tenant' },
    requireCertTokenAgreement: false,
    maxTokenBytes: 8192,
    jwksRefreshMinSeconds: 30,
    cacheMaxEntries: 10_000,
    devIssuer: false,
    devIssuerFile: '/etc/toolgate/.toolgate/dev-issuer.json',
  });
  assert.deepEqual(config.upstreams[0]!.scopes, ['crm.read']);
});

test('listening beyond loopback without auth: refuses to start (ERR_AUTH_REQUIRED); auth: { mode: none } is the explicit way', async () => {
  const probe = await startProbeServer();
  const home = tempHome();
  try {
    const open = `listener:\n  host: 0.0.0.0\n  port: 0\nupstreams:\n  - id: crm\n    url: ${probe.url}\n`;
    await assert.rejects(startGateway(parseConfig(open, 'open.yaml'), { logger: silentLogger, home: home.path }), (err: StartupError) => {
      assert.equal(err.code, 'ERR_AUTH_REQUIRED');
      assert.match(err.message, /auth: \{ mode: none \}/);
      return true;
    });
    const explicit = await startGateway(parseConfig(`${open}auth:\n  mode: none\n`, 'open.yaml'), { logger: silentLogger, home: home.path });
    try {
      const res = await fetch(`http://127.0.0.1:${explicit.port}/mcp`, {
        method: 'POST',
        headers: MCP_HEADERS,
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
      });
      assert.equal(res.status, 200);
    } finally {
      await explicit.close();
    }
  } finally {
    await probe.close();
    home.remove();
  }
});

test('opaque tokens are checked by RFC 7662 introspection at the issuer; an unknown opaque token is refused', async () => {
  const as = await startAuthorizationServer(
    [
      { client_id: 'report-bot', client_secret: 'report-secret', scope: 'crm.read' },
      { client_id: 'toolgate', client_secret: 'toolgate-secret', scope: 'crm.read' },
    ],
    { format: 'opaque' },
  );
  const probe = await startProbeServer();
  const audit = new MemoryAuditSink();
  const gateway = await gatewayWith(
    `auth:\n  issuers:\n    - issuer: ${as.issuer}\n      introspection:\n        url: ${as.issuer}/token/introspection\n        client_id: toolgate\n        client_secret: toolgate-secret\nupstreams:\n  - id: crm\n    url: ${probe.url}\n    scopes: [crm.read]\n`,
    { audit },
  );
  try {
    const opaque = await as.token('report-bot', gateway.url);
    assert.ok(!opaque.includes('.'), 'the authorization server issued an opaque token');
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    const res = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${opaque}` }, body: JSON.stringify(init) });
    assert.equal(res.status, 200, await res.text());
    const p = gateway.sessions.get(res.headers.get('mcp-session-id')!)!.principal;
    assert.equal(p.agent, 'report-bot');
    assert.deepEqual(p.scopes, ['crm.read']);

    const bad = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: 'Bearer made-up-opaque-token' }, body: JSON.stringify(init) });
    assert.equal(bad.status, 401);
    const event = audit.events.filter((e) => e.kind === 'auth').at(-1)!;
    assert.equal(event.detail?.code, 'ERR_TOKEN_INACTIVE');
    assert.match(String(event.detail?.reason), /inactive/);
  } finally {
    await gateway.close();
    await probe.close();
    await as.close();
  }
});
