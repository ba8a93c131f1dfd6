/**
 * DPoP (RFC 9449) pieces on their own: the jti replay cache and its bound, the nonce schedule,
 * htu normalization, the RFC 7638 thumbprint, the `auth.dpop` config — and, through the
 * identity stage with a hand-driven clock, nonce rotation and a full replay cache (503).
 * The HTTP-level cases are in the bad-token corpus.
 */

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { type CryptoKey, calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { ConfigError } from '../src/config/errors.js';
import { parseConfig } from '../src/config/load.js';
import type { DpopConfig } from '../src/config/types.js';
import { BearerAuthenticator } from '../src/identity/authenticator.js';
import { DPOP_DEFAULTS, jwkThumbprint, normalizedHtu } from '../src/identity/dpop.js';
import { DpopNonces } from '../src/identity/dpop-nonce.js';
import { ProofReplayCache } from '../src/identity/dpop-replay.js';
import { ProtectedResource } from '../src/identity/protected-resource.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { isRejection } from '../src/pipeline/stages.js';
import { testAuthConfig } from './support/auth-config.js';

test('replay cache: a key is refused within the window, accepted again after it; past max entries new keys are refused, none forgotten', () => {
  let now = 1_000_000;
  const cache = new ProofReplayCache(3, 10_000, () => now);
  assert.equal(cache.record('a'), 'recorded');
  assert.equal(cache.record('a'), 'replayed');
  assert.equal(cache.record('b'), 'recorded');
  assert.equal(cache.record('c'), 'recorded');
  assert.equal(cache.record('d'), 'full', 'a fourth live key is refused');
  assert.equal(cache.record('a'), 'replayed', 'the oldest was not evicted to make room');
  now += 10_001;
  assert.equal(cache.record('d'), 'recorded', 'expired entries are swept');
  assert.equal(cache.size, 1);
  assert.equal(cache.record('a'), 'recorded', 'outside the window a key is new again');
});

test('nonce schedule: the current nonce is accepted, the previous one for one more period, older ones and made-up ones refused', () => {
  let now = 0;
  const nonces = new DpopNonces(60_000, () => now);
  const first = nonces.current;
  assert.match(first, /^[A-Za-z0-9_-]{22}$/);
  assert.ok(nonces.accepts(first));
  assert.ok(!nonces.accepts('made-up'));
  assert.ok(!nonces.accepts(undefined));
  now = 60_000;
  const second = nonces.current;
  assert.notEqual(second, first);
  assert.ok(nonces.accepts(first), 'the previous nonce is still accepted');
  assert.ok(nonces.accepts(second));
  now = 120_000;
  assert.ok(!nonces.accepts(first), 'two rotations later the first is refused');
  assert.ok(nonces.accepts(second));
  now = 400_000;
  assert.ok(!nonces.accepts(second), 'after a long idle time the old current value is not kept as previous');
});

test('htu normalization (RFC 3986 §6.2.2–6.2.3): case, default port, dot segments, percent-encoding; query and fragment ignored; non-http refused', () => {
  assert.equal(normalizedHtu('HTTPS://GW.Example:443/a/../mcp?x=1#f'), 'https://gw.example/mcp');
  assert.equal(normalizedHtu('http://gw.example:80'), 'http://gw.example/');
  assert.equal(normalizedHtu('http://gw.example/%7euser/%2f%41'), 'http://gw.example/~user/%2FA');
  assert.equal(normalizedHtu('http://gw.example:7420/mcp'), 'http://gw.example:7420/mcp');
  assert.notEqual(normalizedHtu('http://gw.example/mcp/'), normalizedHtu('http://gw.example/mcp'), 'a trailing slash is another URL');
  assert.equal(normalizedHtu('ftp://gw.example/mcp'), undefined);
  assert.equal(normalizedHtu('not a url'), undefined);
});

test("JWK thumbprint (RFC 7638): the RFC's own RSA example, and the same as jose's for EC, OKP and RSA keys", async () => {
  const rfcExample = {
    kty: 'RSA',
    n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    e: 'AQAB',
    alg: 'RS256',
    kid: '2011-04-29',
  };
  assert.equal(jwkThumbprint(rfcExample), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  for (const alg of ['ES256', 'ES384', 'Ed25519', 'PS256'] as const) {
    const { publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    assert.equal(jwkThumbprint(jwk), await calculateJwkThumbprint(jwk), alg);
  }
  assert.throws(() => jwkThumbprint({ kty: 'oct', k: 'c2VjcmV0' }), { code: 'ERR_DPOP_PROOF_INVALID' });
});

test('auth.dpop config: written empty it gets the same defaults the identity layer uses when it is left out; bad values name the key', () => {
  const upstream = 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:1/mcp\n';
  const config = parseConfig(`auth:\n  issuers: []\n  dpop: {}\n${upstream}`, '/etc/toolgate/toolgate.yaml', {});
  assert.deepEqual(config.auth?.dpop, DPOP_DEFAULTS);
  assert.equal(parseConfig(`auth:\n  issuers: []\n${upstream}`, '/etc/toolgate/toolgate.yaml', {}).auth?.dpop, undefined);
  let message = '';
  try {
    parseConfig(
      `auth:\n  dpop:\n    algorithms: [ES256, HS256]\n    nonce: sometimes\n    max_age_seconds: 0\n    replay_cache_max_entries: 10\n    jti_cache: 5\n${upstream}`,
      'toolgate.yaml',
      {},
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    message = err.message;
  }
  assert.match(message, /auth\.dpop\.algorithms\[1\]: expected one of .* \(none and HS\* are never accepted\)/);
  assert.match(message, /auth\.dpop\.nonce: expected off or required/);
  assert.match(message, /auth\.dpop\.max_age_seconds: expected 1 to 600 seconds/);
  assert.match(message, /auth\.dpop\.replay_cache_max_entries: expected 1000 to 10000000/);
  assert.match(message, /auth\.dpop.*jti_cache/);
});

/** An identity stage over one issuer and a hand-driven clock, and a DPoP client for it. */
async function stageWith(dpop: DpopConfig) {
  const clock = { now: Date.now() };
  const issuerKey = await generateKeyPair('ES256', { extractable: true });
  const client = await generateKeyPair('ES256', { extractable: true });
  const clientJwk = await exportJWK(client.publicKey);
  const issuer = 'https://issuer.test';
  const config = testAuthConfig(issuer, { maxTokenLifetimeSeconds: 86_400, dpop });
  const url = 'http://127.0.0.1:7420/mcp';
  const resource = new ProtectedResource({ authorizationServers: [issuer], scopesSupported: [], certificateBound: false });
  resource.bind(url);
  const audit = new MemoryAuditSink();
  const stage = new BearerAuthenticator({
    config,
    issuers: [{ config: config.issuers[0]!, keys: createLocalJWKSet({ keys: [{ ...(await exportJWK(issuerKey.publicKey)), kid: 'k1', alg: 'ES256' }] }) }],
    resource,
    certificateRules: [],
    audit,
    now: () => clock.now,
  });
  stage.bindEndpoint(url);
  const iat = Math.floor(clock.now / 1000);
  const token = await new SignJWT({ client_id: 'sales-bot', cnf: { jkt: await calculateJwkThumbprint(clientJwk) } })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
    .setIssuer(issuer)
    .setAudience(url)
    .setSubject('alice')
    .setJti('t1')
    .setIssuedAt(iat)
    .setExpirationTime(iat + 86_000)
    .sign(issuerKey.privateKey);
  const ath = createHash('sha256').update(token).digest('base64url');
  const proof = (nonce?: string): Promise<string> =>
    new SignJWT({ htm: 'POST', htu: url, iat: Math.floor(clock.now / 1000), jti: randomUUID(), ath, ...(nonce ? { nonce } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: clientJwk })
      .sign(client.privateKey as CryptoKey);
  const request = (dpopProof: string): IncomingMessage =>
    ({
      url: '/mcp',
      method: 'POST',
      headers: { authorization: `DPoP ${token}`, dpop: dpopProof },
      rawHeaders: ['Authorization', `DPoP ${token}`, 'DPoP', dpopProof],
      socket: {},
    }) as unknown as IncomingMessage;
  return { stage, clock, audit, proof, request, clientJwk: clientJwk as JWK };
}

test('a full replay cache (2 proofs in the window, a third arrives) → 503 and an audit record, and accepted again once the window has passed', async () => {
  const { stage, clock, audit, proof, request } = await stageWith({ ...DPOP_DEFAULTS, replayCacheMaxEntries: 2 });
  assert.ok(!isRejection(await stage.authenticate(request(await proof()))));
  assert.ok(!isRejection(await stage.authenticate(request(await proof()))));
  const third = await stage.authenticate(request(await proof()));
  assert.ok(isRejection(third));
  assert.equal(third.status, 503);
  assert.equal(audit.events.at(-1)?.detail?.code, 'ERR_DPOP_REPLAY_CACHE_FULL');
  assert.match(String(audit.events.at(-1)?.detail?.reason), /2 proofs within the window fill replay_cache_max_entries/);
  clock.now += (DPOP_DEFAULTS.maxAgeSeconds + DPOP_DEFAULTS.maxFutureSeconds + 2) * 1000;
  assert.ok(!isRejection(await stage.authenticate(request(await proof()))), 'after the window the cache has room again');
});

test('nonce required, rotated every 60 s: a proof with the nonce of the previous period is accepted, two periods old → use_dpop_nonce with the new nonce', async () => {
  const { stage, clock, audit, proof, request } = await stageWith({ ...DPOP_DEFAULTS, nonce: 'required', nonceRotationSeconds: 60 });
  const first = await stage.authenticate(request(await proof()));
  assert.ok(isRejection(first));
  assert.equal(first.status, 401);
  const nonce = first.headers?.['dpop-nonce'];
  assert.ok(nonce);
  assert.match(String(first.headers?.['www-authenticate']), /^DPoP error="use_dpop_nonce"/);
  assert.ok(!isRejection(await stage.authenticate(request(await proof(nonce)))));
  clock.now += 61_000;
  assert.ok(!isRejection(await stage.authenticate(request(await proof(nonce)))), 'the previous nonce is still good');
  clock.now += 61_000;
  const stale = await stage.authenticate(request(await proof(nonce)));
  assert.ok(isRejection(stale));
  assert.equal(stale.status, 401);
  assert.notEqual(stale.headers?.['dpop-nonce'], nonce, 'a fresh nonce is handed out');
  assert.equal(audit.events.at(-1)?.detail?.code, 'ERR_DPOP_NONCE');
  assert.match(String(audit.events.at(-1)?.detail?.reason), /not a current server nonce/);
});
