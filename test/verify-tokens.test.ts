/**
 * @toolgate/verify with tokens from the real minter and local keys: every refusal has its stable
 * code, non-call messages need no token, and the fetch-style wrapper (SDK v2 servers) and the jti
 * store behave as documented.
 */

import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { type CallTokenError, CallVerifier, MemoryJtiStore, verifyFetchRequests } from '@toolgate/verify';
import { KeyRing } from '../src/credentials/key-ring.js';
import { CallTokenMinter } from '../src/credentials/minter.js';
import type { Invocation, Principal, RequestContext } from '../src/pipeline/stages.js';

const AUD = 'https://crm.internal/mcp';
const principal: Principal = { agent: 'sales-bot', user: 'alice', scopes: ['crm.read'], bindingKey: 'x', anonymous: false };
const ctx: RequestContext = { requestId: 'req-1', sessionId: 'sess-1', protocolVersion: '2025-11-25', receivedAt: new Date() };
const invocation = (args: Record<string, unknown>, target = 'search_contacts'): Invocation => ({
  method: 'tools/call',
  upstream: 'crm',
  target,
  exposedName: `crm__${target}`,
  arguments: args,
});
const body = (args: unknown, name = 'search_contacts'): unknown => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });

function setup(algorithm: 'Ed25519' | 'ES256' = 'Ed25519', clock: () => number = Date.now) {
  const ring = KeyRing.generate(algorithm, Math.floor(clock() / 1000));
  const minter = new CallTokenMinter(() => ring, { issuer: 'toolgate', instance: 'gw', now: clock });
  const verifier = new CallVerifier({ replay: 'memory', keys: ring.jwks(Math.floor(clock() / 1000)) as never, audience: AUD, issuer: 'toolgate' });
  const mint = (args: Record<string, unknown>, lifetimeSeconds = 30, audience = AUD) =>
    minter.mint(principal, invocation(args), ctx, { audience, lifetimeSeconds, scopes: [] }).token;
  return { ring, minter, verifier, mint };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    return (err as CallTokenError).code;
  }
}

describe('CallVerifier', () => {
  test('accepts a fresh token for the call it was minted for, with arguments in another key order', async () => {
    const { verifier, mint } = setup();
    const token = mint({ tenant: 'acme', query: 'a', limit: 10 });
    const chain = await verifier.verify(`Bearer ${token}`, body({ limit: 10.0, query: 'a', tenant: 'acme' }));
    assert.equal(chain?.user, 'alice');
    assert.equal(chain?.agent, 'sales-bot');
    assert.equal(chain?.gateway.instance, 'gw');
    assert.equal(chain?.sessionId, 'sess-1');
  });

  test('ES256 tokens verify too', async () => {
    const { verifier, mint } = setup('ES256');
    assert.equal(await codeOf(verifier.verify(`Bearer ${mint({ q: 1 })}`, body({ q: 1 }))), 'accepted');
  });

  test('altered arguments ({q:1} → {q:2}) → ERR_ARGUMENTS_MISMATCH, and the token stays usable for the real call', async () => {
    const { verifier, mint } = setup();
    const token = mint({ q: 1 });
    assert.equal(await codeOf(verifier.verify(`Bearer ${token}`, body({ q: 2 }))), 'ERR_ARGUMENTS_MISMATCH');
    assert.equal(await codeOf(verifier.verify(`Bearer ${token}`, body({ q: 1 }))), 'accepted');
    assert.equal(await codeOf(verifier.verify(`Bearer ${token}`, body({ q: 1 }))), 'ERR_TOKEN_REPLAYED');
  });

  test('a token minted 60 s ago with a 30 s lifetime → ERR_EXPIRED', async () => {
    const past = Date.now() - 60_000;
    const { ring } = setup();
    const old = new CallTokenMinter(() => ring, { issuer: 'toolgate', instance: 'gw', now: () => past });
    const verifier = new CallVerifier({ replay: 'memory', keys: ring.jwks(Math.floor(past / 1000)) as never, audience: AUD });
    const token = old.mint(principal, invocation({}), ctx, { audience: AUD, lifetimeSeconds: 30, scopes: [] }).token;
    assert.equal(await codeOf(verifier.verify(`Bearer ${token}`, body({}))), 'ERR_EXPIRED');
  });

  test('a token for another audience (https://hr.internal/mcp) → ERR_AUDIENCE', async () => {
    const { verifier, mint } = setup();
    assert.equal(await codeOf(verifier.verify(`Bearer ${mint({}, 30, 'https://hr.internal/mcp')}`, body({}))), 'ERR_AUDIENCE');
  });

  test('a token living 3600 s (over the 300 s accepted) → ERR_LIFETIME', async () => {
    const { verifier, mint } = setup();
    assert.equal(await codeOf(verifier.verify(`Bearer ${mint({}, 3600)}`, body({}))), 'ERR_LIFETIME');
  });

  test("signed by another gateway's key (kid not in the JWKS) → ERR_TOKEN_INVALID", async () => {
    const { verifier } = setup();
    const other = setup();
    assert.equal(await codeOf(verifier.verify(`Bearer ${other.mint({})}`, body({}))), 'ERR_TOKEN_INVALID');
  });

  test('alg "none" and an HS256 token → ERR_TOKEN_INVALID', async () => {
    const { verifier, mint } = setup();
    const [, payload] = mint({}).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'toolgate-call+jwt' })).toString('base64url')}.${payload}.`;
    assert.equal(await codeOf(verifier.verify(`Bearer ${none}`, body({}))), 'ERR_TOKEN_INVALID');
    // An RSA signature under a header that claims EdDSA: wrong algorithm for the key.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'toolgate-call+jwt' })).toString('base64url');
    const rs = `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')}`;
    assert.equal(await codeOf(verifier.verify(`Bearer ${rs}`, body({}))), 'ERR_TOKEN_INVALID');
  });

  test('no Authorization header on a call → ERR_TOKEN_MISSING; initialize, tools/list and notifications need none', async () => {
    const { verifier } = setup();
    assert.equal(await codeOf(verifier.verify(undefined, body({}))), 'ERR_TOKEN_MISSING');
    assert.equal(await verifier.verify(undefined, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }), undefined);
    assert.equal(await verifier.verify(undefined, { jsonrpc: '2.0', id: 2, method: 'tools/list' }), undefined);
    assert.equal(await verifier.verify(undefined, { jsonrpc: '2.0', method: 'notifications/initialized' }), undefined);
  });

  test('a batch holding a tools/call → ERR_BODY (one token binds one call)', async () => {
    const { verifier, mint } = setup();
    assert.equal(await codeOf(verifier.verify(`Bearer ${mint({})}`, [body({}), body({})])), 'ERR_BODY');
  });
});

describe('verifyFetchRequests (SDK v2 fetch-style handlers)', () => {
  test('passes a verified call to the handler with the body intact; refuses a replay with 401 and a JSON-RPC error', async () => {
    const { verifier, mint } = setup();
    const seen: unknown[] = [];
    const guarded = verifyFetchRequests(verifier, async (request) => {
      seen.push(await request.json());
      return Response.json({ jsonrpc: '2.0', id: 1, result: {} });
    });
    const token = mint({ q: 'x' });
    const req = () =>
      new Request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body({ q: 'x' })),
      });
    assert.equal((await guarded(req())).status, 200);
    assert.deepEqual(seen, [body({ q: 'x' })]);
    const replay = await guarded(req());
    assert.equal(replay.status, 401);
    assert.match(replay.headers.get('www-authenticate') ?? '', /invalid_token/);
    const answer = (await replay.json()) as { id: unknown; error: { code: number; data: { code: string } } };
    assert.deepEqual([answer.id, answer.error.code, answer.error.data.code], [1, -32001, 'ERR_TOKEN_REPLAYED']);
    assert.equal(seen.length, 1, 'the handler did not see the replay');
  });
});

describe('MemoryJtiStore', () => {
  test('forgets a jti once its token expired, so memory stays bounded', () => {
    let now = 1_000_000;
    const store = new MemoryJtiStore(() => now);
    assert.equal(store.useOnce('a', now + 30_000), true);
    assert.equal(store.useOnce('a', now + 30_000), false);
    now += 31_000;
    assert.equal(store.useOnce('b', now + 30_000), true);
    assert.equal(store.size, 1);
  });
});

describe("CallVerifier when the gateway's JWKS cannot be fetched", () => {
  test('JWKS URL on a closed port → ERR_JWKS_UNAVAILABLE (503), not a verdict on the token', async () => {
    const { mint } = setup();
    const verifier = new CallVerifier({ replay: 'memory', jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json', audience: AUD });
    assert.equal(await codeOf(verifier.verify(`Bearer ${mint({})}`, body({}))), 'ERR_JWKS_UNAVAILABLE');
  });
});
