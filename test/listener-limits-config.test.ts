/** `listener.limits`: what is accepted, the defaults, and the message for each bad value. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../src/config/errors.js';
import { parseConfig } from '../src/config/load.js';

const UPSTREAMS = 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:7421/mcp\n';

function limits(yaml: string): string {
  return `listener:\n  limits:\n${yaml
    .split('\n')
    .filter(Boolean)
    .map((l) => `    ${l}`)
    .join('\n')}\n${UPSTREAMS}`;
}

function message(text: string): string {
  try {
    parseConfig(text, 'config.yaml', {});
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('the config was accepted');
}

test('every key set, one as a ${VAR} string: all are read', () => {
  const config = parseConfig(
    limits(`headers_timeout_ms: 2000
request_timeout_ms: \${REQUEST_MS}
keep_alive_timeout_ms: 5000
max_requests_per_socket: 0
max_connections: 50
max_connections_per_address: 5
unauthenticated_body_bytes: 0`),
    'config.yaml',
    { REQUEST_MS: '4000' },
  );
  assert.deepEqual(config.listener.limits, {
    headersTimeoutMs: 2000,
    requestTimeoutMs: 4000,
    keepAliveTimeoutMs: 5000,
    maxRequestsPerSocket: 0,
    maxConnections: 50,
    maxConnectionsPerAddress: 5,
    unauthenticatedBodyBytes: 0,
  });
});

test('headers_timeout_ms 5000 with request_timeout_ms 1000: refused, naming both', () => {
  assert.equal(
    message(limits('headers_timeout_ms: 5000\nrequest_timeout_ms: 1000')),
    'config.yaml:3:25: listener.limits.headers_timeout_ms: expected at most request_timeout_ms (1000), got 5000',
  );
});

test('max_connections_per_address 20 with max_connections 10: refused', () => {
  assert.match(
    message(limits('max_connections: 10\nmax_connections_per_address: 20')),
    /listener\.limits\.max_connections_per_address: expected at most max_connections \(10\), got 20$/,
  );
});

test('max_connections 0 and a negative unauthenticated_body_bytes: each refused with its key', () => {
  assert.match(message(limits('max_connections: 0')), /listener\.limits\.max_connections: expected a positive integer, got 0$/);
  assert.match(message(limits('unauthenticated_body_bytes: -1')), /listener\.limits\.unauthenticated_body_bytes: expected a whole number of bytes, got -1$/);
});

test('a misspelt key (header_timeout_ms): refused with a suggestion', () => {
  assert.match(message(limits('header_timeout_ms: 1000')), /listener\.limits\.header_timeout_ms: unknown key; did you mean "headers_timeout_ms"\?/);
});
