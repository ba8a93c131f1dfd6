/**
 * Timeouts and connection caps, against the gateway as its own process with a real issuer.
 * Hostile clients are raw sockets from other loopback addresses (127.0.0.10–19), so the
 * per-address cap applies to them and not to the well-behaved SDK client on 127.0.0.1.
 * Connection-level refusals carry no principal, so they are not audit records: the gateway's
 * log line is where each one is told.
 */

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { type GatewayProcess, serveGateway } from './support/gateway-process.js';
import { type LocalIssuer, localIssuer } from './support/local-issuer.js';
import { tempHome } from './support/temp-home.js';
import { waitFor } from './support/wait-for.js';

const home = tempHome('toolgate-front-door-');
let probe: ProbeServer;
let issuer: LocalIssuer;

before(async () => {
  probe = await startProbeServer();
  issuer = await localIssuer(home.path);
});
after(async () => {
  await probe?.close();
  home.remove();
});

function upstreams(): string {
  return `upstreams:\n  - id: crm\n    url: ${probe.url}\n    scopes: [crm.read]\n`;
}

interface RawClient {
  socket: Socket;
  received(): string;
  /** Closed, and not by this side. */
  closedByServer: boolean;
  /** Closes it from this side (the test is done with it). */
  hangUp(): void;
}

/** A socket to the gateway from `localAddress`; it never closes by itself, only when told to. */
function rawSocket(gatewayUrl: string, localAddress: string): RawClient {
  const url = new URL(gatewayUrl);
  const socket = connect({ port: Number(url.port), host: url.hostname, localAddress });
  const chunks: Buffer[] = [];
  let closing = false;
  const client: RawClient = {
    socket,
    received: () => Buffer.concat(chunks).toString('latin1'),
    closedByServer: false,
    hangUp: () => {
      closing = true;
      socket.destroy();
    },
  };
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  socket.on('close', () => (client.closedByServer = !closing));
  return client;
}

/** Sends `head`, then one byte of `drip` every `everyMs` until the server closes the socket. */
function trickle(client: RawClient, head: string, everyMs: number): void {
  const send = (): void => {
    if (client.socket.destroyed) return;
    client.socket.write(head === '' ? 'a' : head);
    head = '';
    setTimeout(send, everyMs).unref();
  };
  client.socket.once('connect', send);
}

describe('1,000 trickling connections (a byte every 300 ms) with headers_timeout_ms 1000, request_timeout_ms 2000, 100 connections per address', () => {
  let gateway: GatewayProcess;
  const clients: RawClient[] = [];
  before(async () => {
    gateway = await serveGateway(
      home.path,
      `listener:
  port: 0
  limits:
    headers_timeout_ms: 1000
    request_timeout_ms: 2000
    max_connections: 1100
    max_connections_per_address: 100
${issuer.authYaml}${upstreams()}`,
    );
  });
  after(async () => {
    for (const c of clients) c.hangUp();
    await gateway?.stop();
  });

  test('all are closed by the server with 408, 5 more from one address are refused 429, and a client with a token is served meanwhile (its answer streaming longer than the request timeout); nothing trickled reaches the upstream', {
    timeout: 120_000,
  }, async () => {
    const url = new URL(gateway.url);
    const token = await issuer.token(gateway.url);
    const headersDrip = `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nX-Slow: `;
    const bodyDrip = `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n`;
    const seen = gateway.lines.length;
    const callsBefore = probe.log.calls.length;
    // 127.0.0.10 gets 105: its cap is 100, so 5 of them (whichever arrive last) are turned away.
    for (let a = 10; a < 20; a++) {
      for (let i = 0; i < (a === 10 ? 105 : 100); i++) {
        const client = rawSocket(gateway.url, `127.0.0.${a}`);
        trickle(client, i % 2 === 0 ? headersDrip : bodyDrip, 300);
        clients.push(client);
      }
    }

    // The well-behaved client, on 127.0.0.1, while they trickle.
    const sdk = new Client({ name: 'well-behaved', version: '1' });
    await sdk.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    // Its answer streams for 3 s, longer than request_timeout_ms: the deadline is on receiving the request only.
    let openWhileServed: number | undefined;
    const result = await sdk.callTool({ name: 'crm__count', arguments: { tag: 'well-behaved', steps: 6, delay_ms: 500 } }, undefined, {
      onprogress: () => (openWhileServed ??= clients.filter((c) => !c.closedByServer).length),
    });
    await sdk.close();
    assert.equal(result.isError, undefined, JSON.stringify(result));
    assert.ok(openWhileServed !== undefined && openWhileServed > 0, `the call was served while trickling connections were open (${openWhileServed})`);

    await waitFor(() => clients.every((c) => c.closedByServer), {
      what: 'the gateway to close all 1,005 trickling connections',
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const statuses = new Map<string, number>();
    for (const c of clients) {
      const status = c.received().split('\r\n')[0] || '(closed before an answer was read)';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    console.log(`# ${JSON.stringify(Object.fromEntries(statuses))}; ${openWhileServed} trickling connections open when the call was first served`);
    assert.equal(statuses.get('HTTP/1.1 429 Too Many Requests'), 5, JSON.stringify([...statuses]));
    assert.deepEqual(
      [...statuses.keys()].filter((s) => !['HTTP/1.1 408 Request Timeout', 'HTTP/1.1 429 Too Many Requests', '(closed before an answer was read)'].includes(s)),
      [],
    );

    const logged = gateway.lines.slice(seen);
    const timedOut = logged.filter((l) => /warn +refused request from 127\.0\.0\.1\d: 408 Request Timeout/.test(l));
    const overCap = logged.filter((l) => /warn +refused connection from 127\.0\.0\.10: 429 over listener\.limits\.max_connections_per_address \(100\)$/.test(l));
    assert.equal(timedOut.length, 1000, 'one log line per timed-out connection');
    assert.equal(overCap.length, 5, 'one log line per refused connection');
    assert.deepEqual(
      logged.filter((l) => /^\s+at /.test(l)),
      [],
      'no stack trace',
    );
    assert.deepEqual(
      probe.log.calls.slice(callsBefore).map((c) => c.args),
      [{ tag: 'well-behaved', steps: 6 }],
      'only the well-behaved call reached the upstream',
    );
  });
});

describe('max_connections 4, max_requests_per_socket 2, keep_alive_timeout_ms 300', () => {
  let gateway: GatewayProcess;
  const clients: RawClient[] = [];
  before(async () => {
    gateway = await serveGateway(
      home.path,
      `listener:
  port: 0
  limits:
    max_connections: 4
    max_connections_per_address: 4
    max_requests_per_socket: 2
    keep_alive_timeout_ms: 300
${issuer.authYaml}${upstreams()}`,
    );
  });
  after(async () => {
    for (const c of clients) c.hangUp();
    await gateway?.stop();
  });

  const probeRequest = (host: string): string => `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`;

  test('a fifth connection, from another address, while four are open: 503, closed, one log line', { timeout: 30_000 }, async () => {
    const host = new URL(gateway.url).host;
    const seen = gateway.lines.length;
    // Four keep-alive connections, each answered once, so the gateway has counted all four.
    for (let i = 0; i < 4; i++) {
      const c = rawSocket(gateway.url, '127.0.0.30');
      c.socket.write(probeRequest(host));
      clients.push(c);
    }
    await waitFor(() => clients.every((c) => c.received().startsWith('HTTP/1.1 200')), { what: 'four answered keep-alive connections' });
    const fifth = rawSocket(gateway.url, '127.0.0.31');
    fifth.socket.write(probeRequest(host));
    await waitFor(() => fifth.closedByServer, { what: 'the fifth connection to be closed' });
    assert.match(fifth.received(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(fifth.received(), /\r\nConnection: close\r\n/);
    assert.doesNotMatch(fifth.received(), /"status":"ok"/, 'the probe was not served on the refused connection');
    const logged = gateway.lines.slice(seen).filter((l) => /refused connection/.test(l));
    assert.deepEqual(logged.length, 1);
    assert.match(logged[0]!, /warn +refused connection from 127\.0\.0\.31: 503 over listener\.limits\.max_connections \(4\)$/);
    for (const c of clients) c.hangUp();
  });

  test('three pipelined requests on one keep-alive connection: the second answer says Connection: close, the third is answered 503 (one log line) and the server closes; an idle connection is closed after 300 ms', {
    timeout: 30_000,
  }, async () => {
    const host = new URL(gateway.url).host;
    // Earlier connections must be gone from the gateway's count first.
    await waitFor(
      async () => {
        const r = await fetch(gateway.url.replace(/\/mcp$/, '/healthz')).catch(() => undefined);
        return r?.status === 200;
      },
      { what: 'room under max_connections' },
    );
    const seen = gateway.lines.length;
    const reused = rawSocket(gateway.url, '127.0.0.32');
    reused.socket.write(probeRequest(host) + probeRequest(host) + probeRequest(host));
    await waitFor(() => reused.closedByServer, { what: 'the server to close the connection after two requests' });
    const answers = reused.received().match(/HTTP\/1\.1 \d+/g);
    assert.deepEqual(answers, ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 503'], reused.received());
    assert.match(reused.received().split('HTTP/1.1 200')[2]!, /\r\nconnection: close\r\n/i, 'the second answer announces the close');
    const logged = gateway.lines.slice(seen).filter((l) => /refused/.test(l));
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0]!, /warn +refused request from 127\.0\.0\.32: 503 over listener\.limits\.max_requests_per_socket \(2\)$/);

    const idle = rawSocket(gateway.url, '127.0.0.33');
    idle.socket.write(probeRequest(host));
    await waitFor(() => idle.closedByServer, { what: 'the idle keep-alive connection to be closed' });
    assert.deepEqual(idle.received().match(/HTTP\/1\.1 \d+/g), ['HTTP/1.1 200']);
    assert.match(idle.received(), /\r\nconnection: keep-alive\r\n/i);
  });
});
