/**
 * The probes leak nothing: /healthz and /readyz sit behind the Host/Origin guard, and without
 * the admin token they say only {"status": …} (the HTTP status carries readiness). The detail —
 * upstream names and errors, the audit store's location and chain — is at /admin/status, for
 * the admin token alone. Real gateways on loopback, real sockets (node:http, so that Host can be
 * set to what a DNS-rebinding page would send).
 */

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../src/config/load.js';
import type { RunningGateway } from '../src/gateway.js';
import { startGateway } from '../src/gateway.js';
import { type ProbeServer, startProbeServer } from './fixtures/probe-server.js';
import { ADMIN_TOKEN, ADMIN_YAML } from './support/admin-status.js';
import { gatewayWith } from './support/gateway.js';
import { freePort } from './support/servers.js';
import { tempHome } from './support/temp-home.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request with the headers exactly as given (fetch would not let a test choose Host). */
function raw(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers: { host: `${hostname}:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

const lines: string[] = [];
const logger = { log: (_level: string, message: string) => lines.push(message) };

let probe: ProbeServer;
let deadPort: number;
/** admin token configured; one upstream up, one down (so there is a lastError to leak). */
let gateway: RunningGateway;
/** no admin section. */
let plain: RunningGateway;

before(async () => {
  probe = await startProbeServer();
  deadPort = await freePort();
  gateway = await gatewayWith(
    `upstreams:
  - id: probe
    url: ${probe.url}
  - id: secretive
    url: http://127.0.0.1:${deadPort}/mcp
    timeouts: { connect_ms: 500 }
${ADMIN_YAML}`,
    { logger },
  );
  plain = await gatewayWith(`upstreams:\n  - id: probe\n    url: ${probe.url}\n`);
});

after(async () => {
  await gateway?.close();
  await plain?.close();
  await probe?.close();
});

/** What an unauthenticated body must never contain: upstream names, their errors, the audit store. */
function assertNothingLeaks(text: string): void {
  const audit = gateway.auditLog!.readiness().body;
  for (const secret of ['secretive', 'probe', String(deadPort), String(audit.location), String(audit.chain), 'upstreams', 'audit', 'lastError', 'version']) {
    assert.ok(!text.includes(secret), `${JSON.stringify(secret)} must not appear in ${text}`);
  }
}

describe('probes behind the Host/Origin guard', () => {
  for (const path of ['/readyz', '/healthz', '/admin/status']) {
    test(`${path} with Host: rebound.attacker.example → 403, no detail`, async () => {
      const r = await raw(gateway.url, path, { host: 'rebound.attacker.example', authorization: `Bearer ${ADMIN_TOKEN}` });
      assert.equal(r.status, 403);
      assert.match(r.text, /Host rebound\.attacker\.example is not allowed/);
      assertNothingLeaks(r.text);
    });
  }

  test('/readyz from a page on https://evil.example (Origin header, own Host) → 403', async () => {
    const r = await raw(gateway.url, '/readyz', { origin: 'https://evil.example' });
    assert.equal(r.status, 403);
    assert.match(r.text, /Origin https:\/\/evil\.example is not allowed/);
    assertNothingLeaks(r.text);
  });
});

describe('probes without the admin token', () => {
  test('/readyz with no Authorization → 503 {"status":"degraded"} and nothing else (no upstream, error, audit path or chain)', async () => {
    const r = await raw(gateway.url, '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.text), { status: 'degraded' });
    assertNothingLeaks(r.text);
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  test('/healthz with no Authorization → 200 {"status":"ok"} (no version)', async () => {
    const r = await raw(gateway.url, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { status: 'ok' });
  });

  test('/readyz on a gateway with every upstream up → 200 {"status":"ready"}', async () => {
    const r = await raw(plain.url, '/readyz');
    assert.deepEqual([r.status, JSON.parse(r.text)], [200, { status: 'ready' }]);
  });

  test('/readyz with a wrong admin token → 401 invalid_token, one log line naming the refusal', async () => {
    lines.length = 0;
    const r = await raw(gateway.url, '/readyz', { authorization: 'Bearer not-the-admin-token-but-long-enough-0000' });
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
    assertNothingLeaks(r.text);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('admin:')),
      ['admin: refused GET /readyz from 127.0.0.1: the admin token does not match'],
    );
  });

  test('/readyz with the admin token → the detail: each upstream, its last error, the audit store', async () => {
    const r = await raw(gateway.url, '/readyz', { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(r.status, 503);
    const body = JSON.parse(r.text) as { status: string; upstreams: Record<string, { state: string; lastError?: string }>; audit: { store: string } };
    assert.equal(body.status, 'degraded');
    assert.equal(body.upstreams.probe!.state, 'ready');
    assert.equal(body.upstreams.secretive!.state, 'down');
    assert.ok(body.upstreams.secretive!.lastError);
    assert.equal(body.audit.store, 'sqlite');
  });
});

describe('/admin/status', () => {
  test('no Authorization → 401 with a Bearer challenge, nothing leaked, one log line', async () => {
    lines.length = 0;
    const r = await raw(gateway.url, '/admin/status');
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="toolgate-admin"');
    assertNothingLeaks(r.text);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('admin:')),
      ['admin: refused GET /admin/status from 127.0.0.1: no admin token'],
    );
  });

  for (const [what, authorization] of [
    ['a wrong token', 'Bearer not-the-admin-token-but-long-enough-0000'],
    ['the token with one character changed', `Bearer ${ADMIN_TOKEN.slice(0, -1)}0`],
    ['a prefix of the token', `Bearer ${ADMIN_TOKEN.slice(0, 20)}`],
    ['the token as Basic credentials', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`],
  ] as const) {
    test(`${what} → 401 invalid_token, nothing leaked`, async () => {
      const r = await raw(gateway.url, '/admin/status', { authorization });
      assert.equal(r.status, 401);
      assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
      assertNothingLeaks(r.text);
    });
  }

  test('the right token → 200 with version, upstreams (and their errors), audit store and chain', async () => {
    const r = await raw(gateway.url, '/admin/status', { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as { status: string; version: string; upstreams: Record<string, { state: string }>; audit: { chain: string } };
    assert.equal(body.status, 'degraded');
    assert.equal(typeof body.version, 'string');
    assert.deepEqual(Object.keys(body.upstreams).sort(), ['probe', 'secretive']);
    assert.equal(body.audit.chain, gateway.auditLog!.chain);
  });

  test('POST with the right token → 405', async () => {
    const r = await raw(gateway.url, '/admin/status', { authorization: `Bearer ${ADMIN_TOKEN}` }, 'POST');
    assert.equal(r.status, 405);
  });

  test('a gateway without an admin section: /admin/status → 404, and /readyz with a bearer token stays minimal', async () => {
    const r = await raw(plain.url, '/admin/status', { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(r.status, 404);
    const ready = await raw(plain.url, '/readyz', { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.deepEqual([ready.status, JSON.parse(ready.text)], [200, { status: 'ready' }]);
  });
});

describe('admin token configuration', () => {
  test('admin.token_file: the file content (trimmed) is the token', async () => {
    const home = tempHome();
    try {
      const file = join(home.path, 'admin-token');
      writeFileSync(file, `${'f'.repeat(40)}\n`);
      const gw = await gatewayWith(`upstreams:\n  - id: probe\n    url: ${probe.url}\nadmin:\n  token_file: ${JSON.stringify(file)}\n`, { home: home.path });
      try {
        assert.equal((await raw(gw.url, '/admin/status', { authorization: `Bearer ${'f'.repeat(40)}` })).status, 200);
        assert.equal((await raw(gw.url, '/admin/status', { authorization: `Bearer ${'f'.repeat(39)}` })).status, 401);
      } finally {
        await gw.close();
      }
    } finally {
      home.remove();
    }
  });

  test('admin.token_file naming a missing file → start-up fails with ERR_ADMIN_TOKEN naming the file', async () => {
    const home = tempHome();
    try {
      const file = join(home.path, 'no-such-token');
      const config = parseConfig(`listener:\n  port: 0\nupstreams:\n  - id: probe\n    url: ${probe.url}\nadmin:\n  token_file: ${JSON.stringify(file)}\n`, 'test config');
      await assert.rejects(startGateway(config, { home: home.path, logger: { log() {} } }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_ADMIN_TOKEN');
        assert.ok(err.message.includes(file), err.message);
        return true;
      });
    } finally {
      home.remove();
    }
  });

  test('admin.token_file holding a 10-character token → start-up fails (too short)', async () => {
    const home = tempHome();
    try {
      const file = join(home.path, 'admin-token');
      writeFileSync(file, 'short-1234');
      const config = parseConfig(`listener:\n  port: 0\nupstreams:\n  - id: probe\n    url: ${probe.url}\nadmin:\n  token_file: ${JSON.stringify(file)}\n`, 'test config');
      await assert.rejects(startGateway(config, { home: home.path, logger: { log() {} } }), /at least 32 characters/);
    } finally {
      home.remove();
    }
  });

  test('admin.token: ${TOOLGATE_ADMIN_TOKEN} from the environment is the token, and a short one is refused without echoing it', () => {
    const yaml = 'upstreams:\n  - id: probe\n    url: http://127.0.0.1:1/mcp\nadmin:\n  token: ${TOOLGATE_ADMIN_TOKEN}\n';
    assert.equal(parseConfig(yaml, 'test config', { TOOLGATE_ADMIN_TOKEN: ADMIN_TOKEN }).admin?.token, ADMIN_TOKEN);
    assert.throws(
      () => parseConfig(yaml, 'test config', { TOOLGATE_ADMIN_TOKEN: 'hunter2-short' }),
      (err: Error) =>
        /admin\.token: expected a secret of at least 32 characters.*got a value from \$\{TOOLGATE_ADMIN_TOKEN\}/.test(err.message) && !err.message.includes('hunter2'),
    );
  });

  for (const [what, section, expected] of [
    ['a 10-character admin.token', 'admin:\n  token: short-1234\n', /admin\.token: expected a secret of at least 32 characters/],
    ['both token and token_file', `admin:\n  token: ${ADMIN_TOKEN}\n  token_file: /run/secrets/admin\n`, /admin\.token_file: give token or token_file, not both/],
    ['an empty admin section', 'admin: {}\n', /admin\.token: missing; give token \(as \$\{ENV\}\) or token_file/],
  ] as const) {
    test(`config with ${what} → a config error naming the key`, () => {
      assert.throws(() => parseConfig(`upstreams:\n  - id: probe\n    url: http://127.0.0.1:1/mcp\n${section}`, 'test config', {}), expected);
    });
  }
});
