/**
 * The connection caps on HTTPS: a connection is counted once its handshake is done, so one
 * past the cap gets its 503 over TLS rather than a failed handshake (no `tls_handshake_failed`
 * record, no handshake warning).
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import type { RunningGateway } from '../src/gateway.js';
import type { Logger } from '../src/log.js';
import { MemoryAuditSink } from '../src/pipeline/pass-through.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { gatewayWith } from './support/gateway.js';
import { createTestPki, type TestPki } from './support/test-pki.js';
import { waitFor } from './support/wait-for.js';

let pki: TestPki;
let probe: ProbeServer;
let gateway: RunningGateway;
const audit = new MemoryAuditSink();
const lines: string[] = [];
const logger: Logger = { log: (level, message) => lines.push(`${level} ${message}`) };

before(async () => {
  pki = createTestPki();
  probe = await startProbeServer();
  gateway = await gatewayWith(
    `listener:
  port: 0
  limits:
    max_connections: 2
    max_connections_per_address: 2
  tls:
    cert: ${pki.server.certFile}
    key: ${pki.server.keyFile}
upstreams:
  - id: crm
    url: ${probe.url}
`,
    { audit, logger },
  );
});

after(async () => {
  await gateway?.close();
  await probe?.close();
  pki?.remove();
});

interface TlsClient {
  socket: TLSSocket;
  received(): string;
  closed: boolean;
}

/** A TLS connection that asks for /healthz once and stays open (keep-alive). */
function healthz(): TlsClient {
  const url = new URL(gateway.url);
  const socket = connect({ port: Number(url.port), host: url.hostname, ca: pki.ca, servername: 'localhost' });
  const chunks: Buffer[] = [];
  const client: TlsClient = { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed: false };
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  socket.on('close', () => (client.closed = true));
  socket.once('secureConnect', () => socket.write(`GET /healthz HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`));
  return client;
}

test('HTTPS with max_connections 2: a third TLS connection while two are open is answered 503 over TLS and closed; no failed handshake is recorded', async () => {
  const open = [healthz(), healthz()];
  try {
    await waitFor(() => open.every((c) => c.received().startsWith('HTTP/1.1 200')), { what: 'two answered keep-alive TLS connections' });
    const third = healthz();
    await waitFor(() => third.closed, { what: 'the third connection to be closed' });
    assert.match(third.received(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.doesNotMatch(third.received(), /"status":"ok"/, 'the probe was not served on the refused connection');
    assert.deepEqual(
      lines.filter((l) => /refused|handshake/.test(l)),
      [`warn refused connection from 127.0.0.1: 503 over listener.limits.max_connections (2)`],
    );
    assert.deepEqual(
      audit.events.filter((e) => e.kind === 'auth'),
      [],
      'no failed handshake recorded',
    );
  } finally {
    for (const c of open) c.socket.destroy();
  }
});
