/**
 * `toolgate demo`'s authorization server and what the gateway publishes about it: the
 * protected-resource metadata names it and every scope, the 401 still asks for the baselines
 * only, its tokens are RFC 9068 JWTs for the gateway alone, and the development issuer of
 * `toolgate token` is still trusted beside it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DEMO_SCOPES, type RunningDemo, startDemo } from '../src/cli/demo.js';
import { ConfigError } from '../src/config/errors.js';
import { parseConfig } from '../src/config/load.js';
import { readDevIssuer, signDevToken } from '../src/identity/dev-issuer.js';
import { MCP_HEADERS } from './support/gateway.js';
import { authorizationCodeToken, ScriptedBrowser } from './support/scripted-browser.js';
import { tempHome } from './support/temp-home.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

describe('the demo authorization server', { timeout: 60_000 }, () => {
  const home = tempHome('toolgate-demo-as-');
  let demo: RunningDemo;
  let issuer: string;

  const initialize = (token?: string): Promise<Response> =>
    fetch(demo.gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(INIT) });

  const clientCredentials = async (agent: string, params: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> => {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${agent}:${demo.authorizationServer.secrets[agent]}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  before(async () => {
    demo = await startDemo({ port: 0, crmPort: 0, authPort: 0, home: join(home.path, 'state') });
    issuer = demo.authorizationServer.issuer;
  });

  after(async () => {
    await demo?.close();
    home.remove();
  });

  it('the protected-resource metadata lists it as the authorization server and every demo scope (crm.write included); a 401 asks for the baselines', async () => {
    const metadata = (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', demo.gateway.url))).json()) as Record<string, unknown>;
    assert.equal(metadata.resource, demo.gateway.url);
    assert.deepEqual(metadata.authorization_servers, [issuer]);
    assert.deepEqual([...(metadata.scopes_supported as string[])].sort(), [...DEMO_SCOPES].sort());
    const res = await initialize();
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="crm\.read hr\.employee\.read"/);
  });

  it('publishes RFC 8414 metadata: code with S256 only, client credentials, dynamic registration', async () => {
    const metadata = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, string[] | string>;
    assert.equal(metadata.issuer, issuer);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(metadata.response_types_supported, ['code']);
    for (const grant of ['authorization_code', 'client_credentials', 'refresh_token']) assert.ok(metadata.grant_types_supported!.includes(grant), grant);
    assert.equal(metadata.registration_endpoint, `${issuer}/reg`);
  });

  it('client credentials for report-bot: an at+jwt whose aud is the gateway, accepted by the gateway', async () => {
    const { status, body } = await clientCredentials('report-bot', { resource: demo.gateway.url, scope: 'crm.read' });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(decodeProtectedHeader(body.access_token!).typ, 'at+jwt');
    const claims = decodeJwt(body.access_token!);
    assert.deepEqual([claims.iss, claims.aud, claims.client_id, claims.scope], [issuer, demo.gateway.url, 'report-bot', 'crm.read']);
    assert.equal((await initialize(body.access_token)).status, 200);
  });

  it('a token asked for another resource (http://127.0.0.1:1/mcp) is refused with invalid_target', async () => {
    const { status, body } = await clientCredentials('report-bot', { resource: 'http://127.0.0.1:1/mcp', scope: 'crm.read' });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_target');
  });

  it('a scope the demo does not know (crm.everything) is not granted', async () => {
    const { body } = await clientCredentials('report-bot', { resource: demo.gateway.url, scope: 'crm.read crm.everything' });
    assert.ok(!(body.scope ?? '').includes('crm.everything'), JSON.stringify(body));
    assert.ok(!body.access_token || !String(decodeJwt(body.access_token).scope).includes('crm.everything'));
  });

  it("authorization code + PKCE for bob via hr-assistant: sub is bob, the tenant is bob's, the gateway accepts it", async () => {
    const token = await authorizationCodeToken(new ScriptedBrowser(home.path), {
      issuer,
      clientId: 'hr-assistant',
      clientSecret: demo.authorizationServer.secrets['hr-assistant']!,
      user: 'bob',
      scope: 'hr.employee.read',
      resource: demo.gateway.url,
    });
    const claims = decodeJwt(token);
    assert.deepEqual([claims.sub, claims.tenant, claims.client_id, claims.aud, claims.scope], ['bob', 'acme', 'hr-assistant', demo.gateway.url, 'hr.employee.read']);
    assert.equal((await initialize(token)).status, 200);
  });

  it('toolgate token (the development issuer) keeps working beside it', async () => {
    const file = readDevIssuer(join(home.path, 'state', 'dev-issuer.json'));
    const token = await signDevToken(file, { agent: 'sales-bot', user: 'alice', tenant: 'acme', scopes: ['crm.read'], ttlSeconds: 300 });
    assert.equal((await initialize(token)).status, 200);
  });
});

describe('auth.scopes_supported', () => {
  it('a scope name that is not a list ("scopes_supported: crm.read") is a config error naming the key', () => {
    const yaml = 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:1/mcp\nauth:\n  scopes_supported: crm.read\n';
    assert.throws(
      () => parseConfig(yaml, 'toolgate.yaml', {}),
      (err: ConfigError) => err instanceof ConfigError && /auth\.scopes_supported: expected a list of scope names/.test(err.message),
    );
    const ok = parseConfig(yaml.replace('crm.read', '[crm.read, crm.write]'), 'toolgate.yaml', {});
    assert.deepEqual(ok.auth?.scopesSupported, ['crm.read', 'crm.write']);
  });
});
