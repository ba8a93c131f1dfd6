/**
 * Per-call credentials end to end: a client authenticated with its own bearer token calls tools on
 * two upstreams through toolgate; each upstream records every header it receives. The client's
 * token never appears upstream; each call carries its own minted token, for that upstream alone,
 * short-lived, bound to the arguments the upstream received.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { argumentsHash, CallVerifier, type PerCallClaims } from '@toolgate/verify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { gatewayWith } from './support/gateway.js';
import { type RecordingUpstream, startRecordingUpstream } from './support/recording-upstream.js';

const CALLS = 40;
const MAX_LIFETIME = 60;

describe('per-call credentials: minted tokens, nothing of the client forwarded', () => {
  let a: RecordingUpstream;
  let b: RecordingUpstream;
  let gateway: RunningGateway;
  let client: Client;
  const audit = new MemoryAuditSink();
  // The client's own token: random bytes, so any appearance upstream is a leak, not a coincidence.
  const inboundToken = randomBytes(32).toString('base64url');
  const cookie = `session=${randomBytes(16).toString('hex')}`;

  before(async () => {
    a = await startRecordingUpstream();
    b = await startRecordingUpstream();
    gateway = await gatewayWith(
      `credentials:
  issuer: https://toolgate.test
  instance: gw-1
  keys: { ephemeral: true }
  token_lifetime_seconds: 20
  max_lifetime_seconds: ${MAX_LIFETIME}
upstreams:
  - id: a
    url: ${a.url}
    credential:
      scopes: { echo: [crm.read], delete_record: [crm.admin] }
  - id: b
    url: ${b.url}
    credential:
      audience: urn:example:b
      lifetime_seconds: 600
`,
      { identity: acceptAnyBearerForTests({ agent: 'sales-bot', user: 'alice' }), audit },
    );
    client = new Client({ name: 'credentials-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gateway.url), {
        requestInit: {
          headers: { authorization: `Bearer ${inboundToken}`, cookie, 'x-api-key': 'client-secret-key', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        },
      }),
    );
    for (let i = 0; i < CALLS; i++) {
      const upstream = i % 2 === 0 ? 'a' : 'b';
      await client.callTool({ name: `${upstream}__echo`, arguments: { text: `call ${i} ünïcode`, n: i / 3, tags: ['x', String(i)] } });
    }
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await a?.close();
    await b?.close();
  });

  test(`over ${CALLS} calls, the client's bearer token, cookie and API key never reach either upstream`, () => {
    const all = [...a.requests, ...b.requests];
    assert.ok(all.length >= CALLS, `upstreams saw ${all.length} requests`);
    for (const r of all) {
      const raw = r.rawHeaders.join('\n');
      assert.ok(!raw.includes(inboundToken), `inbound token found in headers: ${raw}`);
      assert.ok(!raw.includes(cookie) && r.headers.cookie === undefined, 'cookie forwarded');
      assert.equal(r.headers['x-api-key'], undefined, 'x-api-key forwarded');
    }
  });

  test('each tools/call carries its own token, for its upstream alone, within the maximum lifetime, bound to the arguments received', () => {
    const seen = new Set<string>();
    for (const [upstream, audience, lifetime] of [
      [a, a.url, 20],
      [b, 'urn:example:b', MAX_LIFETIME], // asked for 600 s, capped at the maximum
    ] as const) {
      const calls = upstream.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call');
      assert.equal(calls.length, CALLS / 2);
      for (const call of calls) {
        const token = /^Bearer (.+)$/.exec(String(call.headers.authorization))?.[1];
        assert.ok(token, 'no per-call token');
        assert.ok(!seen.has(token), 'a token was used twice');
        seen.add(token);
        assert.equal(decodeProtectedHeader(token).typ, 'toolgate-call+jwt');
        const claims = decodeJwt(token) as unknown as PerCallClaims;
        assert.equal(claims.aud, audience, 'aud must be this upstream alone');
        assert.equal(typeof claims.aud, 'string');
        assert.equal(claims.exp - claims.iat, lifetime);
        assert.ok(claims.exp - claims.iat <= MAX_LIFETIME);
        const params = (call.body as { params: { name: string; arguments: unknown } }).params;
        assert.equal(claims.tool, params.name);
        assert.equal(claims.args_sha256, argumentsHash(params.arguments), 'argument hash must match what the upstream received');
        assert.equal(claims.iss, 'https://toolgate.test');
        assert.equal(claims.sub, 'alice');
        assert.deepEqual(claims.act, { sub: 'sales-bot', act: { sub: 'gw-1' } });
        assert.equal(claims.client_id, 'sales-bot');
        assert.equal(claims.req_id, call.headers['x-request-id']);
        assert.equal(claims.trace_id, '0af7651916cd43dd8448eb211c80319c');
        assert.equal(call.headers.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
        assert.equal(claims.scope, upstream === a ? 'crm.read' : undefined);
        assert.ok(claims.sid, 'session id claim');
      }
    }
    const jtis = new Set([...seen].map((t) => (decodeJwt(t) as { jti: string }).jti));
    assert.equal(jtis.size, CALLS);
  });

  test('messages other than calls (initialize, tools/list) carry no credential at all', () => {
    const other = [...a.requests, ...b.requests].filter((r) => (r.body as { method?: string } | undefined)?.method !== 'tools/call');
    assert.ok(other.length > 0);
    for (const r of other) assert.equal(r.headers.authorization, undefined);
  });

  test('the JWKS at /.well-known/jwks.json verifies every token; the issuer metadata names it', async () => {
    const base = gateway.url.replace(/\/mcp$/, '');
    const meta = (await (await fetch(`${base}/.well-known/toolgate-issuer`)).json()) as { issuer: string; jwks_path: string; signing_alg_values_supported: string[] };
    assert.equal(meta.issuer, 'https://toolgate.test');
    assert.deepEqual(meta.signing_alg_values_supported, ['EdDSA']);
    const jwks = (await (await fetch(`${base}${meta.jwks_path}`)).json()) as { keys: Array<{ kty: string; crv: string; d?: string }> };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.crv, 'Ed25519');
    assert.equal(jwks.keys[0]!.d, undefined, 'private part published');
    const verifier = new CallVerifier({
      replay: 'memory',
      jwksUrl: `${base}/.well-known/jwks.json`,
      audience: a.url,
      issuer: 'https://toolgate.test',
      maxLifetimeSeconds: MAX_LIFETIME,
    });
    for (const call of a.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call')) {
      const chain = await verifier.verify(String(call.headers.authorization), call.body);
      assert.equal(chain?.user, 'alice');
      assert.equal(chain?.agent, 'sales-bot');
      assert.deepEqual(chain?.gateway, { issuer: 'https://toolgate.test', instance: 'gw-1' });
      assert.deepEqual(chain?.scopes, ['crm.read']);
    }
  });
});

describe('credential modes static and none', () => {
  let upstream: RecordingUpstream;
  let gateway: RunningGateway;
  let client: Client;
  const secret = randomBytes(12).toString('hex');

  before(async () => {
    upstream = await startRecordingUpstream();
    process.env.TOOLGATE_TEST_STATIC_SECRET = secret;
    gateway = await gatewayWith(
      `upstreams:
  - id: s
    url: ${upstream.url}
    credential: { mode: static, header: X-Api-Key, value: "\${TOOLGATE_TEST_STATIC_SECRET}" }
  - id: n
    url: ${upstream.url}
`,
      { identity: acceptAnyBearerForTests(), audit: new MemoryAuditSink() },
    );
    delete process.env.TOOLGATE_TEST_STATIC_SECRET;
    client = new Client({ name: 'static-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer inbound-static-test' } } }));
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await upstream?.close();
  });

  test("static: the configured secret header on each call, and still not the client's token", async () => {
    await client.callTool({ name: 's__echo', arguments: { text: 'static' } });
    const call = upstream.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call').at(-1)!;
    assert.equal(call.headers['x-api-key'], secret);
    assert.equal(call.headers.authorization, undefined);
    assert.ok(!call.rawHeaders.join('\n').includes('inbound-static-test'));
  });

  test("no credentials section and no credential key (today's behaviour): no Authorization upstream at all", async () => {
    await client.callTool({ name: 'n__echo', arguments: { text: 'none' } });
    const call = upstream.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call').at(-1)!;
    assert.equal(call.headers.authorization, undefined);
    assert.equal(call.headers['x-api-key'], undefined);
    assert.ok(!call.rawHeaders.join('\n').includes('inbound-static-test'));
  });
});
