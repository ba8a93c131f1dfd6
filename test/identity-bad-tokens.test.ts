/**
 * The bad-token corpus: each bad input is tried once against a gateway whose issuer's keys
 * are a local JWKS file, and each case asserts the HTTP status, the WWW-Authenticate header,
 * the reason recorded with the audit sink, and that the upstream was not called. DPoP cases
 * (RFC 9449) make their proofs with jose, as a DPoP client would.
 */

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import type { AuditEvent } from '../src/pipeline/stages.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';

const ISSUER = 'https://issuer.test';
let dir: string;
let key: { privateKey: CryptoKey; publicKey: CryptoKey };
let probe: ProbeServer;
let gateway: RunningGateway;
let metadataUrl: string;
const audit = new MemoryAuditSink();
/** The DPoP client's key pair, its public JWK and RFC 7638 thumbprint (what cnf.jkt names). */
let client: { privateKey: CryptoKey; publicKey: CryptoKey };
let clientJwk: JWK;
let clientJkt: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'toolgate-bad-tokens-'));
  key = await generateKeyPair('ES256', { extractable: true });
  client = await generateKeyPair('ES256', { extractable: true });
  clientJwk = await exportJWK(client.publicKey);
  clientJkt = await calculateJwkThumbprint(clientJwk);
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
  dpop:
    algorithms: [ES256, EdDSA]
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

async function attempt(
  authorization: string | undefined,
  path = '',
  extra: Record<string, string> = {},
): Promise<{ status: number; challenge: string | null; code: unknown; reason: string; nonce: string | null }> {
  const calls = probe.log.calls.length;
  const recorded = audit.events.length;
  const res = await fetch(gateway.url + path, { method: 'POST', headers: { ...MCP_HEADERS, ...(authorization ? { authorization } : {}), ...extra }, body: JSON.stringify(CALL) });
  await res.text();
  assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
  const event = audit.events.slice(recorded).find((e) => e.kind === 'auth');
  assert.ok(event, 'an auth failure was recorded');
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    code: event.detail?.code,
    reason: String(event.detail?.reason),
    nonce: res.headers.get('dpop-nonce'),
  };
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

// ---- Sender-constrained tokens: DPoP (RFC 9449) and cnf toolgate cannot check ----

const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

interface ProofOptions {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  ath?: string;
  nonce?: string;
  header?: Record<string, unknown>;
  signingKey?: CryptoKey | Uint8Array;
}

/** A DPoP proof for `token`, correct for a POST to the gateway unless told otherwise. */
async function proof(token: string, o: ProofOptions = {}, url = gateway.url): Promise<string> {
  const payload = { htm: o.htm ?? 'POST', htu: o.htu ?? url, iat: o.iat ?? now(), jti: o.jti ?? randomUUID(), ath: o.ath ?? ath(token), ...(o.nonce ? { nonce: o.nonce } : {}) };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: clientJwk, ...o.header } as never).sign(o.signingKey ?? client.privateKey);
}

/** An access token bound to the DPoP client's key. */
const boundToken = (overrides: JWTPayload = {}): Promise<string> => sign(claims({ cnf: { jkt: clientJkt }, ...overrides }));

function dpopChallenge(error: string, description: string): string {
  return `DPoP resource_metadata="${metadataUrl}", scope="crm.read", error="${error}", error_description="${description}", algs="ES256 EdDSA"`;
}

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

/** One POST with the DPoP scheme and a fresh proof. */
async function dpopPost(url: string, token: string, body: unknown, headers: Record<string, string> = {}, o: ProofOptions = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `DPoP ${token}`, dpop: await proof(token, o, url), ...headers }, body: JSON.stringify(body) });
}

/** initialize → initialized → tools/call, each request with its own proof; the call's answer text. */
async function dpopCall(url: string, token: string, o: ProofOptions = {}): Promise<string> {
  const init = await dpopPost(url, token, INITIALIZE, {}, o);
  assert.equal(init.status, 200, await init.clone().text());
  await init.text();
  const sid = init.headers.get('mcp-session-id')!;
  const initialized = await dpopPost(url, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid }, o);
  assert.equal(initialized.status, 202);
  const call = await dpopPost(url, token, { ...CALL, id: 2, params: { ...CALL.params, arguments: { tag: 'dpop', steps: 1 } } }, { 'mcp-session-id': sid }, o);
  assert.equal(call.status, 200);
  return call.text();
}

test('DPoP control: a DPoP-bound token with a valid proof on every request is accepted and the call reaches the upstream', async () => {
  const before = probe.log.calls.length;
  const text = await dpopCall(gateway.url, await boundToken());
  assert.match(text, /dpop done after 1/);
  assert.equal(probe.log.calls.length, before + 1, 'the upstream was called once');
});

test('DPoP: a plain (unbound) token with the DPoP scheme and a valid proof is accepted (RFC 9449 allows it; the proof is still checked)', async () => {
  const before = probe.log.calls.length;
  await dpopCall(gateway.url, await sign(claims()));
  assert.equal(probe.log.calls.length, before + 1);
});

test('DPoP: a plain token with the DPoP scheme and a proof for another token (ath) → 401 invalid_dpop_proof, not accepted as bearer', async () => {
  const token = await sign(claims());
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { ath: ath('another token') }) });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_ATH');
});

test('DPoP-bound token sent with the Bearer scheme (with a valid proof beside it) → 401 DPoP invalid_token, never downgraded', async () => {
  const token = await boundToken();
  const r = await attempt(`Bearer ${token}`, '', { dpop: await proof(token) });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_token', 'The access token is DPoP-bound and must be sent with the DPoP scheme and a proof'));
  assert.equal(r.code, 'ERR_DPOP_BOUND_AS_BEARER');
  assert.ok(r.reason.includes(clientJkt), r.reason);
});

test('DPoP-bound token with the DPoP scheme and no DPoP header → 401 invalid_dpop_proof', async () => {
  const r = await attempt(`DPoP ${await boundToken()}`);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'A DPoP proof is required'));
  assert.equal(r.code, 'ERR_DPOP_PROOF_MISSING');
});

test('DPoP proof for another method (htm GET on a POST) → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { htm: 'GET' }) });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'The DPoP proof is for another HTTP method'));
  assert.equal(r.code, 'ERR_DPOP_METHOD');
  assert.match(r.reason, /htm "GET" is not the request method POST/);
});

test('DPoP on the standalone SSE stream (GET): a proof made for POST → 401 invalid_dpop_proof; a proof for GET → the stream opens', async () => {
  const token = await boundToken();
  const init = await dpopPost(gateway.url, token, INITIALIZE);
  assert.equal(init.status, 200);
  await init.text();
  const sid = init.headers.get('mcp-session-id')!;
  const get = (htm: string, signal?: AbortSignal): Promise<Response> =>
    proof(token, { htm }).then((dpop) =>
      fetch(gateway.url, { method: 'GET', headers: { accept: 'text/event-stream', authorization: `DPoP ${token}`, dpop, 'mcp-session-id': sid }, ...(signal ? { signal } : {}) }),
    );
  const recorded = audit.events.length;
  const refused = await get('POST');
  await refused.text();
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('www-authenticate'), dpopChallenge('invalid_dpop_proof', 'The DPoP proof is for another HTTP method'));
  const event = await lastAuthEvent(recorded);
  assert.equal(event.detail?.code, 'ERR_DPOP_METHOD');
  assert.match(String(event.detail?.reason), /htm "POST" is not the request method GET/);
  const abort = new AbortController();
  const stream = await get('GET', abort.signal);
  assert.equal(stream.status, 200);
  assert.match(String(stream.headers.get('content-type')), /text\/event-stream/);
  abort.abort();
});

test('DPoP proof for another URL (htu of another server) → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { htu: 'https://other.example/mcp' }) });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'The DPoP proof is for another URL'));
  assert.equal(r.code, 'ERR_DPOP_URL');
  assert.ok(r.reason.includes(gateway.url), r.reason);
});

test('DPoP proof for another path on this server (htu …/admin) → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { htu: new URL('/admin', gateway.url).href }) });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_URL');
});

test('DPoP proof whose htu differs only by case of scheme and host, a default-free port spelling, query and fragment → accepted (RFC 9449 §4.3 normalization)', async () => {
  const token = await boundToken();
  const u = new URL(gateway.url);
  const htu = `HTTP://${u.host.toUpperCase()}${u.pathname}?x=1#frag`;
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `DPoP ${token}`, dpop: await proof(token, { htu }) },
    body: JSON.stringify(INITIALIZE),
  });
  assert.equal(res.status, 200, await res.text());
});

test('DPoP proof with the hash of another access token (ath) → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { ath: ath(await boundToken()) }) });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'The DPoP proof is for another access token'));
  assert.equal(r.code, 'ERR_DPOP_ATH');
});

test('DPoP proof without ath → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const bare = await new SignJWT({ htm: 'POST', htu: gateway.url, iat: now(), jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: clientJwk })
    .sign(client.privateKey);
  const r = await attempt(`DPoP ${token}`, '', { dpop: bare });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_ATH');
  assert.match(r.reason, /ath undefined/);
});

test("DPoP proof signed by another key than the token's cnf.jkt (its own jwk, valid signature) → 401 invalid_dpop_proof", async () => {
  const token = await boundToken();
  const other = await generateKeyPair('ES256', { extractable: true });
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { header: { jwk: await exportJWK(other.publicKey) }, signingKey: other.privateKey }) });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'The DPoP proof is signed by another key than the access token is bound to'));
  assert.equal(r.code, 'ERR_DPOP_KEY');
  assert.ok(r.reason.includes(`cnf.jkt ${clientJkt}`), r.reason);
});

test("DPoP proof naming the client's jwk but signed by another key → 401 invalid_dpop_proof (signature)", async () => {
  const token = await boundToken();
  const other = await generateKeyPair('ES256');
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { signingKey: other.privateKey }) });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_PROOF_INVALID');
  assert.match(r.reason, /signature does not verify/);
});

test('DPoP proof replayed (the same proof, same jti, sent twice) → the first is accepted, the second 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const once = await proof(token);
  const first = await fetch(gateway.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `DPoP ${token}`, dpop: once }, body: JSON.stringify(INITIALIZE) });
  assert.equal(first.status, 200);
  await first.text();
  const r = await attempt(`DPoP ${token}`, '', { dpop: once });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'The DPoP proof was already used'));
  assert.equal(r.code, 'ERR_DPOP_REPLAY');
});

test('DPoP proof with a stale iat (two minutes old against a 60 s window) → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { iat: now() - 120 }) });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'The DPoP proof is too old or from the future'));
  assert.equal(r.code, 'ERR_DPOP_IAT');
  assert.match(r.reason, /s old \(max_age_seconds 60\)/);
});

test('DPoP proof with a future iat (one minute ahead against 5 s) → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { iat: now() + 60 }) });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_IAT');
  assert.match(r.reason, /in the future \(max_future_seconds 5\)/);
});

test('DPoP proof with typ JWT instead of dpop+jwt → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { header: { typ: 'JWT' } }) });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'The DPoP proof is invalid'));
  assert.equal(r.code, 'ERR_DPOP_PROOF_INVALID');
  assert.match(r.reason, /typ/);
});

test('DPoP proof with alg none (unsigned) → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const unsigned = `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: clientJwk })}.${b64({ htm: 'POST', htu: gateway.url, iat: now(), jti: randomUUID(), ath: ath(token) })}.`;
  const r = await attempt(`DPoP ${token}`, '', { dpop: unsigned });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_PROOF_INVALID');
});

test('DPoP proof with HS256 and a symmetric jwk → 401 invalid_dpop_proof (alg not allowed)', async () => {
  const token = await boundToken();
  const secret = new TextEncoder().encode('a shared secret of thirty-two bytes!');
  const r = await attempt(`DPoP ${token}`, '', {
    dpop: await proof(token, { header: { alg: 'HS256', jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } }, signingKey: secret }),
  });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_PROOF_INVALID');
  assert.match(r.reason, /alg not in auth\.dpop\.algorithms \(ES256, EdDSA\)/);
});

test('DPoP proof carrying the private key in its jwk header → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { header: { jwk: await exportJWK(client.privateKey) } }) });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_PROOF_INVALID');
  assert.match(r.reason, /private key members \(d\)/);
});

test('DPoP proof of 6000 bytes against max_token_bytes 4096 → 401 invalid_dpop_proof, not parsed', async () => {
  const token = await boundToken();
  const big = await new SignJWT({ htm: 'POST', htu: gateway.url, iat: now(), jti: randomUUID(), ath: ath(token), padding: 'x'.repeat(6000) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: clientJwk })
    .sign(client.privateKey);
  const r = await attempt(`DPoP ${token}`, '', { dpop: big });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_PROOF_INVALID');
  assert.match(r.reason, /DPoP proof of \d+ bytes exceeds max_token_bytes 4096/);
});

test('DPoP proof without a jwk header → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token, { header: { jwk: undefined } }) });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_DPOP_PROOF_INVALID');
  assert.match(r.reason, /no jwk header/);
});

test('DPoP: an expired token sent with the DPoP scheme → 401 answered in the DPoP scheme, invalid_token', async () => {
  const token = await boundToken({ iat: now() - 600, exp: now() - 120 });
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token) });
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_token', 'The access token expired'));
  assert.equal(r.code, 'ERR_TOKEN_EXPIRED');
});

test('cnf with a member toolgate cannot check (jwk, RFC 7800) → 401 invalid_token, not ignored', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ cnf: { jwk: clientJwk } }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, invalidToken('The access token carries a confirmation this server cannot check'));
  assert.equal(r.code, 'ERR_TOKEN_CNF');
  assert.match(r.reason, /cnf member "jwk" cannot be checked/);
});

test('cnf["x5t#S256"] as an array, over plain HTTP without a certificate → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ cnf: { 'x5t#S256': ['A'.repeat(43)] } }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_CNF');
  assert.match(r.reason, /cnf\["x5t#S256"\] is an array of 1, not a base64url SHA-256 thumbprint/);
});

test('cnf as a string instead of an object → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ cnf: clientJkt }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_CNF');
  assert.match(r.reason, /cnf is the string .*, not an object/);
});

test('cnf as an empty object (no confirmation method) → 401 invalid_token', async () => {
  const r = await attempt(`Bearer ${await sign(claims({ cnf: {} }))}`);
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_CNF');
  assert.match(r.reason, /names no confirmation method/);
});

test('cnf.jkt as a number, sent with the DPoP scheme and a proof → 401 invalid_token (the binding cannot be checked)', async () => {
  const token = await sign(claims({ cnf: { jkt: 42 } }));
  const r = await attempt(`DPoP ${token}`, '', { dpop: await proof(token) });
  assert.equal(r.status, 401);
  assert.equal(r.code, 'ERR_TOKEN_CNF');
  assert.ok(r.challenge?.startsWith('DPoP '), String(r.challenge));
  assert.match(r.reason, /cnf\["jkt"\] is of type number/);
});

/** A POST with header lines exactly as given (fetch would fold repeated names into one line). */
function rawPost(url: string, lines: string[], body: unknown): Promise<{ status: number; challenge: string | undefined }> {
  return new Promise((resolve, reject) => {
    // With header lines given as a list Node adds none of its own, Host included.
    const headers = ['host', new URL(url).host, 'content-type', 'application/json', 'accept', 'application/json, text/event-stream', ...lines];
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, challenge: res.headers['www-authenticate'] }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function lastAuthEvent(since: number): Promise<AuditEvent> {
  const event = audit.events.slice(since).find((e) => e.kind === 'auth');
  assert.ok(event, 'an auth failure was recorded');
  return event;
}

test('two Authorization headers (a valid token first, garbage second) → 400 invalid_request, not "the first wins"', async () => {
  const calls = probe.log.calls.length;
  const recorded = audit.events.length;
  const r = await rawPost(gateway.url, ['authorization', `Bearer ${await sign(claims())}`, 'authorization', 'Bearer other'], INITIALIZE);
  assert.equal(r.status, 400);
  assert.equal(r.challenge, `Bearer resource_metadata="${metadataUrl}", scope="crm.read", error="invalid_request", error_description="Only one Authorization header is allowed"`);
  assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
  const event = await lastAuthEvent(recorded);
  assert.equal(event.detail?.code, 'ERR_AUTHORIZATION_DUPLICATE');
  assert.match(String(event.detail?.reason), /2 Authorization headers in one request/);
});

test('two DPoP headers with a DPoP-bound token → 401 invalid_dpop_proof', async () => {
  const token = await boundToken();
  const recorded = audit.events.length;
  const r = await rawPost(gateway.url, ['authorization', `DPoP ${token}`, 'dpop', await proof(token), 'dpop', await proof(token)], INITIALIZE);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, dpopChallenge('invalid_dpop_proof', 'The DPoP proof is invalid'));
  const event = await lastAuthEvent(recorded);
  assert.equal(event.detail?.code, 'ERR_DPOP_PROOF_INVALID');
  assert.match(String(event.detail?.reason), /2 DPoP headers in one request/);
});

test('DPoP nonce required: a proof without the nonce → 401 use_dpop_nonce with DPoP-Nonce; retried with that nonce → accepted, the call reaches the upstream', async () => {
  const nonceAudit = new MemoryAuditSink();
  const gw = await gatewayWith(
    `auth:
  issuers:
    - issuer: ${ISSUER}
      jwks_file: ${join(dir, 'jwks.json')}
      algorithms: [ES256]
  dpop:
    algorithms: [ES256]
    nonce: required
upstreams:
  - id: crm
    url: ${probe.url}
    scopes: [crm.read]
`,
    { audit: nonceAudit },
  );
  try {
    const token = await sign(claims({ aud: gw.url, cnf: { jkt: clientJkt } }));
    const calls = probe.log.calls.length;
    const res = await dpopPost(gw.url, token, CALL);
    await res.text();
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256"');
    const nonce = res.headers.get('dpop-nonce');
    assert.match(String(nonce), /^[A-Za-z0-9_-]{22}$/);
    assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
    const event = nonceAudit.events.find((e) => e.kind === 'auth');
    assert.equal(event?.detail?.code, 'ERR_DPOP_NONCE');
    assert.match(String(event?.detail?.reason), /proof without a nonce/);

    const wrong = await dpopPost(gw.url, token, INITIALIZE, {}, { nonce: 'not-the-nonce' });
    await wrong.text();
    assert.equal(wrong.status, 401, 'a made-up nonce is refused too');
    assert.equal(wrong.headers.get('dpop-nonce'), nonce);

    assert.match(await dpopCall(gw.url, token, { nonce: nonce! }), /dpop done after 1/);
    assert.equal(probe.log.calls.length, calls + 1, 'with the nonce the call reached the upstream');
  } finally {
    await gw.close();
  }
});

test('protected-resource metadata advertises the DPoP proof algorithms (RFC 9728 dpop_signing_alg_values_supported)', async () => {
  const doc = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
  assert.deepEqual(doc.dpop_signing_alg_values_supported, ['ES256', 'EdDSA']);
});

test('DPoP session binding: a session opened with one proof key, used with a token bound to another key (same issuer, agent, user, tenant) → 404, upstream not called, foreign_session recorded', async () => {
  const first = await boundToken();
  const init = await dpopPost(gateway.url, first, INITIALIZE);
  assert.equal(init.status, 200);
  const sid = init.headers.get('mcp-session-id')!;
  await init.text();
  const other = await generateKeyPair('ES256', { extractable: true });
  const otherJwk = await exportJWK(other.publicKey);
  const second = await boundToken({ cnf: { jkt: await calculateJwkThumbprint(otherJwk) } });
  const calls = probe.log.calls.length;
  const recorded = audit.events.length;
  const r = await dpopPost(gateway.url, second, CALL, { 'mcp-session-id': sid }, { header: { jwk: otherJwk }, signingKey: other.privateKey });
  assert.equal(r.status, 404, 'the session is not usable with another proof key');
  await r.text();
  assert.equal(probe.log.calls.length, calls, 'the upstream was not called');
  const foreign = audit.events.slice(recorded).find((e) => e.kind === 'auth' && e.detail?.outcome === 'foreign_session');
  assert.ok(foreign, 'a foreign_session record');
  assert.match(String(foreign.detail?.reason), /jkt:/);
});
