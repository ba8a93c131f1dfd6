/**
 * The bad-token corpus: each bad input is tried once against a gateway whose issuer's keys
 * are a local JWKS file, and each case asserts the HTTP status, the WWW-Authenticate header,
 * the reason recorded with the audit sink, and that the upstream was not called.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';

const ISSUER = 'https://issuer.test';
let dir: string;
let key: { privateKey: CryptoKey; publicKey: CryptoKey };
let probe: ProbeServer;
let gateway: RunningGateway;
let metadataUrl: string;
const audit = new MemoryAuditSink();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'toolgate-bad-tokens-'));
  key = await generateKeyPair('ES256', { extractable: true });
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  probe = await startProbeServer();
  gateway = await gatewayWith(
    `auth:
  issuers:
    - issuer: ${ISSUER}
      jwks_file: ${join(dir, 'jwks.json')}
      algorithms: [ES256]
  max_token_lifetime_seconds: 3600
  max_token_bytes: 4096
upstreams:
  - id: crm
    url: ${probe.url}
    scopes: [crm.read]
`,
    { audit },
  );
  metadataUrl = `${new URL(gateway.url).origin}/.well-known/oauth-protected-resource/mcp`;
});

after(async () => {
  await gateway?.close();
  await probe?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const now = (): number => Math.floor(Date.now() / 1000);

function claims(overrides: JWTPayload = {}): JWTPayload {
  return { iss: ISSUER, aud: gateway.url, sub: 'alice', client_id: 'sales-bot', jti: `j-${Math.random()}`, scope: 'crm.read', iat: now(), exp: now() + 300, ...overrides };
}

async function sign(payload: JWTPayload, header: Record<string, unknown> = {}, signingKey: CryptoKey | Uint8Array = key.privateKey): Promise<string> {
  const drop = Object.entries(payload)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  const clean = Object.fromEntries(Object.entries(payload).filter(([k]) => !drop.includes(k)));
  return new SignJWT(clean).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header } as never).sign(signingKey);
}

function b64(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

const CALL = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'crm__count', arguments: { tag: 'bad', steps: 1 } } };

async function attempt(authorization: string | undefined, path = ''): Promise<{ status: number; challenge: string | null; code: unknown; reason: string }> {
  const calls = probe.log.calls.length;
  const recorded = audit.events.length;
  const res = await fetch(gateway.url + path, { method: 'POST', headers: { ...MCP_HEADERS, ...(authorization ? { authorization } : {}) }, body: JSON.stringify(CALL) });
  await res.text();
  assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
  const event = audit.events.slice(recorded).find((e) => e.kind === 'auth');
  assert.ok(event, 'an auth failure was recorded');
  return { status: res.status, challenge: res.headers.get('www-authenticate'), code: event.detail?.code, reason: String(event.detail?.reason) };
}

function invalidToken(description: string): string {
  return `Bearer resource_metadata="${metadataUrl}", scope="crm.read", error="invalid_token", error_description="${description}"`;
}

test('the control: a good token is accepted and the call reaches the upstream', async () => {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${await sign(claims())}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  assert.equal(res.status, 200);
});

test('no token → 401, resource_metadata and scope, no error code', async () => {
  const r = await attempt(undefined);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, `Bearer resource_metadata="${metadataUrl}", scope="crm.read"`);
  assert.equal(r.code, 'ERR_TOKEN_MISSING');
});

test('malformed token (three parts, not base64url JSON) → 401 invalid_token', async () => {
  const r = await attempt('Bearer eyJub3QganNvbg.bm9wZQ.c2ln');
  assert.equal(r.status, 401);
  assert.equal(r.challenge, invalidToken('The access token is malformed'));
  assert.equal(r.code, 'ERR_TOKEN_MALFORMED');
  assert.match(r.reason, /not a decodable JWT/);
});

test('"Bearer" with two values → 401 invalid_token (malformed)', async () => {
  const r = await attempt('Bearer abc def');
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_MALFORMED');
});

test('alg: none → 401 invalid_token, never accepted', async () => {
  const token = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims())}.`;
  const r = await attempt(`Bearer ${token}`);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, invalidToken('The access token is invalid'));
  assert.equal(r.code, 'ERR_TOKEN_ALG');
  assert.match(r.reason, /alg "none" is never accepted/);
});

test("HS256 signed with the issuer's public key as the HMAC secret → 401 invalid_token", async () => {
  const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
  const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' }).sign(secret);
  const r = await attempt(`Bearer ${token}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_ALG');
  assert.match(r.reason, /alg HS256 is not in issuer https:\/\/issuer.test's allow-list \(ES256\)/);
});

test('unknown kid → 401 invalid_token', async () => {
  const other = await generateKeyPair('ES256');
  const r = await attempt(`Bearer ${await sign(claims(), { kid: 'k-unknown' }, other.privateKey)}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_UNKNOWN_KEY');
  assert.match(r.reason, /no key with kid "k-unknown"/);
});

test('right kid, wrong key (signature does not verify) → 401 invalid_token', async () => {
  const other = await generateKeyPair('ES256');
  const r = await attempt(`Bearer ${await sign(claims(), {}, other.privateKey)}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_SIGNATURE');
});

test('expired token → 401 invalid_token "expired"', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ iat: now() - 600, exp: now() - 120 }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, invalidToken('The access token expired'));
  assert.equal(r.code, 'ERR_TOKEN_EXPIRED');
  assert.match(r.reason, /"exp" claim timestamp check failed/);
});

test('not yet valid (nbf two minutes ahead, beyond the 30 s skew) → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ nbf: now() + 120 }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_NOT_YET_VALID');
  assert.match(r.reason, /nbf/);
});

test('iat in the future → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ iat: now() + 600, exp: now() + 900 }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_NOT_YET_VALID');
});

test('wrong issuer → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ iss: 'https://evil.test' }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_ISSUER');
  assert.match(r.reason, /iss "https:\/\/evil.test" is not a configured issuer/);
});

test('wrong audience → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ aud: 'https://some-other-api.test' }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, invalidToken('The access token was not issued for this resource'));
  assert.equal(r.code, 'ERR_TOKEN_AUDIENCE');
});

test("audience = the upstream's own URL (a token meant for the server behind toolgate) → 401 invalid_token", async () => {
  const r = await attempt(`Bearer ${await sign(claims({ aud: probe.url }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_AUDIENCE');
  assert.ok(r.reason.includes(probe.url), r.reason);
});

test('missing sub → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ sub: undefined }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_CLAIMS');
  assert.match(r.reason, /missing required "sub" claim/);
});

test('missing jti → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ jti: undefined }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_CLAIMS');
  assert.match(r.reason, /missing required "jti" claim/);
});

test('missing client_id and azp → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ client_id: undefined }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_CLAIMS');
  assert.match(r.reason, /client_id or azp/);
});

test('typ JWT instead of at+jwt → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims(), { typ: 'JWT' })}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_TYPE');
});

test('lifetime of two hours against a one-hour maximum → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ exp: now() + 7200 }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_LIFETIME');
  assert.match(r.reason, /exceeds the maximum of 3600 s/);
});

test('token in the query string → 400 invalid_request', async () => {
  const token = await sign(claims());
  const r = await attempt(undefined, `?access_token=${token}`);
  assert.equal(r.status, 400);
  assert.equal(
    r.challenge,
    `Bearer resource_metadata="${metadataUrl}", scope="crm.read", error="invalid_request", error_description="Access tokens must be sent in the Authorization header, not the URL"`,
  );
  assert.equal(r.code, 'ERR_TOKEN_IN_QUERY');
});

test('token bound (cnf x5t#S256) to a certificate, presented without one → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ cnf: { 'x5t#S256': 'A'.repeat(43) } }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, invalidToken('The access token is bound to another certificate'));
  assert.equal(r.code, 'ERR_TOKEN_CERT_BINDING');
  assert.match(r.reason, /no client certificate presented/);
});

test('oversized token (6000 bytes against a 4096 limit) → 401 invalid_token, not verified at all', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ padding: 'x'.repeat(6000) }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_TOO_LARGE');
  assert.match(r.reason, /exceeds max_token_bytes 4096/);
});

test('opaque token with no introspection configured → 401 invalid_token', async () => {
  const r = await attempt('Bearer opaque-token-value');
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_MALFORMED');
  assert.match(r.reason, /no issuer has introspection configured/);
});

test('Basic credentials instead of a bearer token → 401 as if none were sent', async () => {
  const r = await attempt('Basic dXNlcjpwYXNz');
  assert.equal(r.status, 401);
  assert.equal(r.challenge, `Bearer resource_metadata="${metadataUrl}", scope="crm.read"`);
  assert.equal(r.code, 'ERR_TOKEN_MISSING');
});

test('a delegated token (RFC 8693 act): the agent is the current actor, the user is sub, the tenant and act chain are kept', async () => {
  const token = await sign(claims({ sub: 'alice', client_id: 'orchestrator', tenant: 'acme', act: { sub: 'sales-bot', act: { sub: 'orchestrator' } } }));
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  assert.equal(res.status, 200);
  const p = gateway.sessions.get(res.headers.get('mcp-session-id')!)!.principal;
  assert.deepEqual(
    { agent: p.agent, user: p.user, tenant: p.tenant, actors: p.actors, scopes: p.scopes },
    { agent: 'sales-bot', user: 'alice', tenant: 'acme', actors: ['sales-bot', 'orchestrator'], scopes: ['crm.read'] },
  );
  assert.equal(p.bindingKey, `${ISSUER}|sales-bot|alice|acme|-`);
});
