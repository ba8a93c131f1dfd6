/**
 * The verified-token cache: bounded, keyed by the token's hash, never serving a token past its
 * `exp`. Time is the authenticator's injectable clock, so nothing waits.
 */

import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { BearerAuthenticator } from '../src/identity/authenticator.js';
import { ProtectedResource } from '../src/identity/protected-resource.js';
import { VerifiedTokenCache } from '../src/identity/token-cache.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { isRejection } from '../src/pipeline/stages.js';
import { testAuthConfig } from './support/auth-config.js';

test('the cache evicts the oldest entry beyond its bound and drops entries at their expiry', () => {
  let now = 1000;
  const cache = new VerifiedTokenCache<string>(2, () => now);
  cache.set('a', 'A', 2000);
  cache.set('b', 'B', 5000);
  cache.set('c', 'C', 5000);
  assert.equal(cache.get('a'), undefined, 'evicted: bound of 2');
  assert.equal(cache.get('b'), 'B');
  now = 5000;
  assert.equal(cache.get('b'), undefined, 'expired entries are never served');
  cache.set('d', 'D', 4000);
  assert.equal(cache.size, 1, 'an already-expired entry is not stored');
});

test('a cached token is refused once its exp passes (no stale cache hit): first ok, then ERR_TOKEN_EXPIRED', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  let now = Date.now();
  const issuer = 'https://issuer.test';
  const config = testAuthConfig(issuer);
  const resource = new ProtectedResource({ authorizationServers: [issuer], scopesSupported: [], certificateBound: false });
  resource.bind('http://127.0.0.1:7420/mcp');
  const audit = new MemoryAuditSink();
  const stage = new BearerAuthenticator({
    config,
    issuers: [{ config: config.issuers[0]!, keys: createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }) }],
    resource,
    certificateRules: [],
    audit,
    now: () => now,
  });
  const iat = Math.floor(now / 1000);
  const token = await new SignJWT({ client_id: 'sales-bot' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
    .setIssuer(issuer)
    .setAudience(resource.resource)
    .setSubject('alice')
    .setJti('j1')
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .sign(privateKey);
  const req = { url: '/mcp', method: 'POST', headers: { authorization: `Bearer ${token}` }, socket: {} } as unknown as IncomingMessage;
  const first = await stage.authenticate(req);
  assert.ok(!isRejection(first));
  now += 30_000;
  assert.ok(!isRejection(await stage.authenticate(req)), 'still valid, served from the cache');
  now += 31_000;
  const late = await stage.authenticate(req);
  assert.ok(isRejection(late));
  assert.equal(late.status, 401);
  assert.equal(audit.events.at(-1)?.detail?.code, 'ERR_TOKEN_EXPIRED');
});
