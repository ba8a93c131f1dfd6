/**
 * Mutual TLS with certificates made in the test (own CA via the openssl CLI): valid, expired,
 * from another CA, none — in optional and required modes — plus certificate-bound tokens
 * (RFC 8705) and the certificate/token agreement rule.
 */

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { RunningGateway } from '../src/gateway.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith, MCP_HEADERS } from './support/gateway.js';
import { createTestPki, type Pem, type TestPki } from './support/test-pki.js';
import { waitFor } from './support/wait-for.js';

let pki: TestPki;
let probe: ProbeServer;
let valid: Pem;
let second: Pem;
let expired: Pem;
let stranger: Pem;

before(async () => {
  pki = createTestPki();
  valid = pki.client('sales-bot', { sanUri: 'spiffe://acme.test/agent/sales-bot' });
  second = pki.client('report-bot');
  expired = pki.client('old-bot', { expired: true });
  stranger = pki.client('stranger', { otherCa: true });
  probe = await startProbeServer();
});

after(async () => {
  await probe?.close();
  pki?.remove();
});

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(url: string, client: Pem | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        ca: pki.ca,
        agent: false,
        ...(client ? { cert: client.cert, key: client.key } : {}),
        headers: { ...MCP_HEADERS, 'content-length': Buffer.byteLength(text), ...headers },
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function tlsYaml(mode: string, extra = ''): string {
  return `listener:
  port: 0
  tls:
    cert: ${pki.server.certFile}
    key: ${pki.server.keyFile}
    client_ca: ${pki.caFile}
    client_certificates: ${mode}
    agents:
      - san_uri: spiffe://acme.test/agent/sales-bot
        agent: sales-bot
${extra}upstreams:
  - id: crm
    url: ${probe.url}
`;
}

describe('client certificates optional (no auth: the certificate names the caller)', () => {
  let gateway: RunningGateway;
  const audit = new MemoryAuditSink();
  before(async () => {
    gateway = await gatewayWith(tlsYaml('optional'), { audit });
  });
  after(() => gateway?.close());

  test('a valid client certificate: the call goes through and the connection record names both certificates', async () => {
    assert.match(gateway.url, /^https:/);
    const res = await post(gateway.url, valid, INIT);
    assert.equal(res.status, 200, res.body);
    const conn = audit.events.filter((e) => e.kind === 'connection').at(-1)!;
    const client = conn.detail?.client as { subject: string; sanUris: string[]; verified: boolean; thumbprint: string };
    assert.equal(client.subject, 'CN=sales-bot,O=Acme');
    assert.deepEqual(client.sanUris, ['spiffe://acme.test/agent/sales-bot']);
    assert.equal(client.verified, true);
    assert.match(client.thumbprint, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((conn.detail!.server as { subject: string }).subject, 'CN=toolgate.test,O=Toolgate Test');
    // The session belongs to the certificate's agent (mapped by the SAN URI rule).
    const session = gateway.sessions.get(String(res.headers['mcp-session-id']))!;
    assert.equal(session.principal.agent, 'sales-bot');
    assert.equal(session.principal.certificate?.thumbprint, client.thumbprint);
  });

  test('an expired client certificate → 403, recorded with the reason, upstream not called', async () => {
    const calls = probe.log.calls.length;
    const res = await post(gateway.url, expired, INIT);
    assert.equal(res.status, 403);
    const event = audit.events.filter((e) => e.kind === 'auth').at(-1)!;
    assert.equal(event.detail?.code, 'ERR_CERT_REJECTED');
    assert.match(String(event.detail?.reason), /CN=old-bot,O=Acme.*not verified: CERT_HAS_EXPIRED/);
    assert.equal(probe.log.calls.length, calls);
  });

  test('a client certificate from another CA → 403, recorded', async () => {
    const res = await post(gateway.url, stranger, INIT);
    assert.equal(res.status, 403);
    const event = audit.events.filter((e) => e.kind === 'auth').at(-1)!;
    assert.equal(event.detail?.code, 'ERR_CERT_REJECTED');
    assert.match(String(event.detail?.reason), /CN=stranger,O=Acme.*UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/i);
  });

  test('no client certificate in optional mode: allowed, anonymous', async () => {
    const res = await post(gateway.url, undefined, INIT);
    assert.equal(res.status, 200);
    assert.equal(gateway.sessions.get(String(res.headers['mcp-session-id']))!.principal.anonymous, true);
  });
});

describe('client certificates required', () => {
  let gateway: RunningGateway;
  const audit = new MemoryAuditSink();
  before(async () => {
    gateway = await gatewayWith(tlsYaml('required'), { audit });
  });
  after(() => gateway?.close());

  test('a valid client certificate is accepted', async () => {
    const res = await post(gateway.url, valid, INIT);
    assert.equal(res.status, 200);
  });

  for (const [name, cert] of [
    ['no client certificate', undefined],
    ['an expired certificate', () => expired],
    ['a certificate from another CA', () => stranger],
  ] as const) {
    test(`${name}: the handshake fails, is counted and recorded`, async () => {
      const failed = gateway.tls!.failedHandshakes;
      const calls = probe.log.calls.length;
      await assert.rejects(post(gateway.url, typeof cert === 'function' ? cert() : undefined, INIT));
      // The server sees the failure after the client does; wait for the count.
      await waitFor(() => gateway.tls!.failedHandshakes !== failed, { what: 'the gateway to count the failed handshake', intervalMs: 10 });
      assert.equal(gateway.tls!.failedHandshakes, failed + 1);
      const event = audit.events.filter((e) => e.kind === 'auth').at(-1)!;
      assert.equal(event.detail?.code, 'ERR_TLS_HANDSHAKE');
      assert.ok(String(event.detail?.reason).length > 0);
      assert.equal(probe.log.calls.length, calls);
    });
  }
});

describe('certificate and token together', () => {
  let gateway: RunningGateway;
  let signingKey: CryptoKey;
  const audit = new MemoryAuditSink();
  const ISSUER = 'https://issuer.test';
  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    signingKey = pair.privateKey;
    writeFileSync(join(pki.dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] }));
    gateway = await gatewayWith(
      tlsYaml('optional', `auth:\n  issuers:\n    - issuer: ${ISSUER}\n      jwks_file: ${join(pki.dir, 'jwks.json')}\n  require_cert_token_agreement: true\n`),
      { audit },
    );
  });
  after(() => gateway?.close());

  const token = (agent: string, cnf?: string): Promise<string> =>
    new SignJWT({ client_id: agent, scope: 'crm.read', ...(cnf ? { cnf: { 'x5t#S256': cnf } } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(gateway.url)
      .setSubject('alice')
      .setJti(`j-${Math.random()}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(signingKey);

  async function thumbprintOf(cert: Pem): Promise<string> {
    const { X509Certificate, createHash } = await import('node:crypto');
    return createHash('sha256').update(new X509Certificate(cert.cert).raw).digest('base64url');
  }

  test('a token bound to the presented certificate is accepted; principal has agent, user and certificate', async () => {
    const res = await post(gateway.url, valid, INIT, { authorization: `Bearer ${await token('sales-bot', await thumbprintOf(valid))}` });
    assert.equal(res.status, 200, res.body);
    const p = gateway.sessions.get(String(res.headers['mcp-session-id']))!.principal;
    assert.equal(p.agent, 'sales-bot');
    assert.equal(p.user, 'alice');
    assert.equal(p.certificate?.subject, 'CN=sales-bot,O=Acme');
  });

  test('a token bound to another certificate → 401 invalid_token, recorded with both thumbprints', async () => {
    const calls = probe.log.calls.length;
    const res = await post(gateway.url, second, INIT, { authorization: `Bearer ${await token('report-bot', await thumbprintOf(valid))}` });
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
    const event = audit.events.filter((e) => e.kind === 'auth').at(-1)!;
    assert.equal(event.detail?.code, 'ERR_TOKEN_CERT_BINDING');
    assert.ok(String(event.detail?.reason).includes(await thumbprintOf(second)));
    assert.equal(probe.log.calls.length, calls);
  });

  test('certificate of sales-bot with a token of report-bot → 401, agents must agree', async () => {
    const res = await post(gateway.url, valid, INIT, { authorization: `Bearer ${await token('report-bot')}` });
    assert.equal(res.status, 401);
    const event = audit.events.filter((e) => e.kind === 'auth').at(-1)!;
    assert.equal(event.detail?.code, 'ERR_CERT_TOKEN_MISMATCH');
    assert.match(String(event.detail?.reason), /certificate names agent sales-bot .* token names agent report-bot/);
  });
});
