/**
 * Authenticate first, then read: the gateway runs as its own process (so its resident memory
 * can be read from /proc) with a real issuer, and hostile clients talk raw HTTP/1.1 over
 * sockets so they can announce a body and stall, or abort mid-body.
 */

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { SqliteAuditStore } from '../src/audit/sqlite-store.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { type GatewayProcess, serveGateway } from './support/gateway-process.js';
import { type LocalIssuer, localIssuer } from './support/local-issuer.js';
import { tempHome } from './support/temp-home.js';
import { waitFor } from './support/wait-for.js';

const home = tempHome('toolgate-front-door-');
let probe: ProbeServer;
let issuer: LocalIssuer;
let gateway: GatewayProcess;

before(async () => {
  probe = await startProbeServer();
  issuer = await localIssuer(home.path);
  gateway = await serveGateway(
    home.path,
    `listener:
  port: 0
${issuer.authYaml}upstreams:
  - id: crm
    url: ${probe.url}
    scopes: [crm.read]
`,
  );
});

after(async () => {
  await gateway?.stop();
  await probe?.close();
  home.remove();
});

const MIB = 1024 * 1024;

/** A tools/call padded to `bytes` of valid JSON, so only the order of checks decides what happens to it. */
function paddedCall(bytes: number): Buffer {
  const head = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crm__count","arguments":{"tag":"pad","steps":1,"pad":"';
  const tail = '"}}}';
  return Buffer.from(head + 'a'.repeat(bytes - head.length - tail.length) + tail);
}

interface RawClient {
  socket: Socket;
  received(): string;
  closed: boolean;
}

/** Sends `head` (request line and headers) and then `body`, and keeps the socket open afterwards. */
function rawRequest(head: string, body?: Buffer): RawClient {
  const url = new URL(gateway.url);
  const socket = connect(Number(url.port), url.hostname);
  const chunks: Buffer[] = [];
  const client: RawClient = { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed: false };
  socket.on('data', (d: Buffer) => chunks.push(d));
  // A reset after the answer is how the gateway drops an unread body: not an error for the test.
  socket.on('error', () => {});
  socket.on('close', () => (client.closed = true));
  socket.write(head);
  if (body) socket.write(body);
  return client;
}

function head(contentLength: number, extra = ''): string {
  const url = new URL(gateway.url);
  return `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${contentLength}\r\n${extra}\r\n`;
}

test('100 connections without a token, each announcing 4 MiB − 1 KiB (within max_body_bytes), sending all but 1 KiB of it as valid JSON and stalling: each is answered 401 (or reset while still writing) and closed, the gateway grows < 64 MB, nothing is forwarded, and each refusal is recorded as no token', {
  timeout: 120_000,
}, async () => {
  const body = paddedCall(4 * MIB - 2048);
  const baseline = gateway.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, gateway.rss())), 10);
  const clients = Array.from({ length: 100 }, () => rawRequest(head(4 * MIB - 1024), body));
  try {
    await waitFor(() => clients.every((c) => c.closed), { what: 'every stalled unauthenticated connection to be closed by the gateway', timeoutMs: 60_000 });
  } finally {
    clearInterval(sampler);
    for (const c of clients) c.socket.destroy();
    console.log(`# gateway RSS ${(baseline / MIB).toFixed(0)} MiB before, peak ${(peak / MIB).toFixed(0)} MiB (+${((peak - baseline) / MIB).toFixed(1)} MiB)`);
  }
  // A client still writing its 4 MiB when the gateway closes may see its write fail before it
  // reads the answer: such a connection got nothing, never anything but a 401.
  const answered = clients.filter((c) => c.received() !== '');
  for (const c of answered) {
    assert.match(c.received(), /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(c.received(), /\r\nwww-authenticate: Bearer /i);
    assert.match(c.received(), /\r\nconnection: close\r\n/i);
  }
  assert.ok(answered.length > 0, 'the clients read 401s');
  const grown = peak - baseline;
  console.log(`# ${answered.length} of 100 read their 401`);
  assert.ok(grown < 64 * MIB, `the gateway grew by ${(grown / MIB).toFixed(1)} MiB (bound: 64 MiB)`);
  assert.equal(probe.log.calls.length, 0, 'the upstream was not called');

  const store = new SqliteAuditStore(`${home.path}/audit.db`, { readonly: true });
  await store.open();
  try {
    const refusals = (await store.query({ kind: 'auth', limit: 1000 })).map((r) => JSON.parse(r.body!).detail);
    const noToken = refusals.filter((d) => d.outcome === 'rejected' && d.status === 401 && d.method === 'POST');
    assert.equal(noToken.length, 100, JSON.stringify(refusals.slice(0, 3)));
    assert.deepEqual(new Set(noToken.map((d) => d.reason)), new Set(['no Authorization header']));
  } finally {
    await store.close();
  }
});

test('a POST with a valid token whose client resets the connection after 10 of 1000 announced body bytes: one log line naming the abort, no stack trace', {
  timeout: 30_000,
}, async () => {
  const token = await issuer.token(gateway.url);
  const seen = gateway.lines.length;
  // Expect: 100-continue makes the gateway say when it has taken the request in: the reset then
  // reaches a request being handled, not one still being parsed.
  const client = rawRequest(head(1000, `Authorization: Bearer ${token}\r\nExpect: 100-continue\r\n`));
  await waitFor(() => client.received().startsWith('HTTP/1.1 100 Continue'), { what: 'the gateway to take the request in (100 Continue)' });
  await new Promise((r) => client.socket.write('{"jsonrpc"', r));
  client.socket.resetAndDestroy();
  const aborted = (l: string): boolean => /abort|request failed|Error/.test(l);
  await waitFor(() => gateway.lines.slice(seen).some(aborted), { what: 'the gateway to log the aborted request' });
  // Anything else the abort makes the gateway write comes before its next answer.
  await waitFor(async () => (await fetch(gateway.url.replace(/\/mcp$/, '/healthz'))).ok, { what: 'the gateway to answer /healthz afterwards' });
  const logged = gateway.lines.slice(seen);
  assert.equal(logged.filter(aborted).length, 1, logged.join('\n'));
  assert.deepEqual(
    logged.filter((l) => /^\s+at /.test(l)),
    [],
    'no stack trace',
  );
  assert.match(logged.find(aborted)!, /info +client 127\.0\.0\.1 aborted POST \/mcp: aborted$/);
  assert.equal(probe.log.calls.length, 0, 'the upstream was not called');
});
