/**
 * DPoP end to end with a real authorization server: oidc-provider (DPoP on by default) issues
 * a DPoP-bound access token (`token_type: DPoP`, `cnf.jkt`) to a client that sends a proof
 * to its token endpoint, as RFC 9449 §5 describes; toolgate then accepts that token only
 * with proofs from the same key, and refuses it as Bearer or with another client's key.
 */

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type CryptoKey, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { type AuthorizationServer, startAuthorizationServer } from './support/authorization-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';

const CLIENT = { client_id: 'sales-bot', client_secret: 'sales-secret', scope: 'crm.read' };
let as: AuthorizationServer;
let crm: ProbeServer;
let gateway: RunningGateway;
const audit = new MemoryAuditSink();

before(async () => {
  as = await startAuthorizationServer([CLIENT]);
  crm = await startProbeServer();
  gateway = await gatewayWith(
    `auth:
  issuers:
    - issuer: ${as.issuer}
upstreams:
  - id: crm
    url: ${crm.url}
    scopes: [crm.read]
`,
    { audit },
  );
});

after(async () => {
  await gateway?.close();
  await crm?.close();
  await as?.close();
});

interface DpopClient {
  privateKey: CryptoKey;
  jwk: JWK;
}

async function dpopClient(): Promise<DpopClient> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: await exportJWK(publicKey) };
}

function proof(client: DpopClient, htm: string, htu: string, accessToken?: string): Promise<string> {
  const claims = { htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}) };
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: client.jwk }).sign(client.privateKey);
}

/** The client-credentials grant with a DPoP proof at the token endpoint. */
async function boundToken(client: DpopClient): Promise<{ token: string; type: string }> {
  const url = `${as.issuer}/token`;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`,
      dpop: await proof(client, 'POST', url),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: gateway.url, scope: 'crm.read' }),
  });
  const body = (await res.json()) as { access_token?: string; token_type?: string; error_description?: string };
  assert.ok(body.access_token, `token request failed: ${res.status} ${body.error_description}`);
  return { token: body.access_token, type: String(body.token_type) };
}

async function post(token: string, scheme: string, dpop: string | undefined, body: unknown, sid?: string): Promise<Response> {
  return fetch(gateway.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `${scheme} ${token}`, ...(dpop ? { dpop } : {}), ...(sid ? { 'mcp-session-id': sid } : {}) },
    body: JSON.stringify(body),
  });
}

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
const CALL = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'oidc-dpop', steps: 1 } } };

test('a DPoP-bound token from oidc-provider (cnf.jkt of the client key) with proofs from that key: initialize, call, the upstream is reached', async () => {
  const client = await dpopClient();
  const { token, type } = await boundToken(client);
  assert.equal(type, 'DPoP');
  assert.deepEqual(decodeJwt(token).cnf, { jkt: await calculateJwkThumbprint(client.jwk) });

  const init = await post(token, 'DPoP', await proof(client, 'POST', gateway.url, token), INIT);
  assert.equal(init.status, 200, await init.clone().text());
  await init.text();
  const sid = init.headers.get('mcp-session-id')!;
  const initialized = await post(token, 'DPoP', await proof(client, 'POST', gateway.url, token), { jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
  assert.equal(initialized.status, 202);
  const before = crm.log.calls.length;
  const call = await post(token, 'DPoP', await proof(client, 'POST', gateway.url, token), CALL, sid);
  assert.equal(call.status, 200);
  assert.match(await call.text(), /oidc-dpop done after 1/);
  assert.equal(crm.log.calls.length, before + 1);
});

test('the same oidc-provider DPoP-bound token sent as Bearer, and with a proof from another key → 401 each, the upstream not called, recorded', async () => {
  const client = await dpopClient();
  const { token } = await boundToken(client);
  const before = crm.log.calls.length;
  const recorded = audit.events.length;

  const asBearer = await post(token, 'Bearer', undefined, INIT);
  await asBearer.text();
  assert.equal(asBearer.status, 401);
  assert.match(String(asBearer.headers.get('www-authenticate')), /^DPoP .*error="invalid_token"/);

  const thief = await dpopClient();
  const stolen = await post(token, 'DPoP', await proof(thief, 'POST', gateway.url, token), INIT);
  await stolen.text();
  assert.equal(stolen.status, 401);
  assert.match(String(stolen.headers.get('www-authenticate')), /^DPoP .*error="invalid_dpop_proof"/);

  assert.equal(crm.log.calls.length, before, 'the upstream was not called');
  const codes = audit.events
    .slice(recorded)
    .filter((e) => e.kind === 'auth')
    .map((e) => e.detail?.code);
  assert.deepEqual(codes, ['ERR_DPOP_BOUND_AS_BEARER', 'ERR_DPOP_KEY']);
});
