/**
 * Upstream mutual TLS with certificates generated for this run: the gateway presents its client
 * certificate and verifies the upstream's server certificate against the configured CA. Without
 * the client certificate the upstream refuses the handshake; an upstream whose certificate chains
 * to another CA is not trusted. Either way that upstream stays down and nothing is called on it.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RunningGateway } from '../src/gateway.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { gatewayWith } from './support/gateway.js';
import { type RecordingUpstream, startRecordingUpstream } from './support/recording-upstream.js';
import { generateUpstreamCertificates, type UpstreamCertificates } from './support/upstream-certificates.js';

describe('upstream mTLS (tls: { cert, key, ca })', () => {
  let certs: UpstreamCertificates;
  let trusted: RecordingUpstream;
  let untrusted: RecordingUpstream;
  let gateway: RunningGateway;
  let client: Client;

  before(async () => {
    certs = generateUpstreamCertificates();
    trusted = await startRecordingUpstream({ tls: { key: certs.server.key, cert: certs.server.cert, ca: certs.ca.cert } });
    untrusted = await startRecordingUpstream({ tls: { key: certs.untrustedServer.key, cert: certs.untrustedServer.cert, ca: certs.ca.cert } });
    gateway = await gatewayWith(
      `credentials:
  keys: { ephemeral: true }
upstreams:
  - id: good
    url: ${trusted.url}
    tls: { cert: ${certs.client.certPath}, key: ${certs.client.keyPath}, ca: ${certs.ca.certPath} }
    timeouts: { connect_ms: 3000 }
  - id: nocert
    url: ${trusted.url}
    tls: { ca: ${certs.ca.certPath} }
    timeouts: { connect_ms: 3000 }
  - id: untrusted
    url: ${untrusted.url}
    tls: { cert: ${certs.client.certPath}, key: ${certs.client.keyPath}, ca: ${certs.ca.certPath} }
    timeouts: { connect_ms: 3000 }
`,
      { identity: acceptAnyBearerForTests() },
    );
    client = new Client({ name: 'mtls-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer t' } } }));
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await trusted?.close();
    await untrusted?.close();
    certs?.remove();
  });

  test('with its client certificate, the gateway reaches the upstream over verified TLS; each call carries a per-call token too', async () => {
    assert.equal(gateway.registry.get('good')?.state, 'ready');
    const result = await client.callTool({ name: 'good__echo', arguments: { text: 'over mTLS' } });
    assert.notEqual(result.isError, true);
    const calls = trusted.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.clientCertificate, 'CN=toolgate');
    assert.match(String(calls[0]!.headers.authorization), /^Bearer ey/);
  });

  test('without a client certificate the upstream refuses the handshake: upstream down, its tools absent', async () => {
    assert.notEqual(gateway.registry.get('nocert')?.state, 'ready');
    assert.ok(
      trusted.requests.every((r) => r.clientCertificate === 'CN=toolgate'),
      'a request arrived without the client certificate',
    );
    const { tools } = await client.listTools();
    assert.ok(!tools.some((t) => t.name.startsWith('nocert__')));
  });

  test('a server certificate from another CA (other-ca) is not trusted: upstream down, no request reached it', async () => {
    assert.notEqual(gateway.registry.get('untrusted')?.state, 'ready');
    assert.match(String(gateway.registry.get('untrusted')?.lastError), /certificate|self.signed|verify/i);
    assert.equal(untrusted.requests.length, 0);
    await assert.rejects(client.callTool({ name: 'untrusted__echo', arguments: { text: 'x' } }));
  });
});
