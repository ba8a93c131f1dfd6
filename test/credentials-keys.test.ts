/**
 * Signing keys: created on first start in a 0600 file, loaded from a file or an environment
 * variable, rotated by `toolgate keys rotate` with the previous key kept in the JWKS for the
 * overlap window (tokens signed before a rotation still verify), picked up by a running
 * gateway; bad key material stops start-up with the file named. And the config rules.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallVerifier } from '@toolgate/verify';
import { parseConfig } from '../src/config/load.js';
import { KeyHolder } from '../src/credentials/key-holder.js';
import { KeyRing } from '../src/credentials/key-ring.js';
import { CallTokenMinter } from '../src/credentials/minter.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { gatewayWith } from './support/gateway.js';
import { type RecordingUpstream, startRecordingUpstream } from './support/recording-upstream.js';

const run = promisify(execFile);
// Compiled (npm test): dist/src/cli/main.js; from source: the .ts file under tsx.
const compiledCli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const CLI_ARGS = existsSync(compiledCli) ? [compiledCli] : ['--import', 'tsx', fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))];
const principal = { agent: 'sales-bot', scopes: [], bindingKey: 'x', anonymous: false };
const ctx = { requestId: 'r', protocolVersion: '2025-11-25', receivedAt: new Date() };
const invocation = { method: 'tools/call', upstream: 'a', target: 'echo', exposedName: 'a__echo', arguments: { text: 'x' } };
const callBody = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } };

describe('signing keys', () => {
  let dir: string;
  let upstream: RecordingUpstream;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'toolgate-keys-'));
    upstream = await startRecordingUpstream();
  });
  after(async () => {
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (keys: string, extra = '') => `credentials:
  keys: ${keys}
  rotation_overlap_seconds: 600
${extra}upstreams:
  - id: a
    url: ${upstream.url}
`;

  test('first start creates the key file with mode 0600 in a 0700 folder; the gateway signs with it', async () => {
    const file = join(dir, 'keys', 'signing-keys.json');
    const gateway = await gatewayWith(config(`{ file: ${file} }`), { identity: acceptAnyBearerForTests() });
    try {
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'keys')).mode & 0o777, 0o700);
      const jwks = (await (await fetch(gateway.url.replace(/\/mcp$/, '/.well-known/jwks.json'))).json()) as { keys: Array<{ kid: string }> };
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ kid: string }> };
      assert.deepEqual(
        jwks.keys.map((k) => k.kid),
        stored.keys.map((k) => k.kid),
      );
    } finally {
      await gateway.close();
    }
  });

  test('`toolgate keys rotate --config` adds a new signing key and keeps the old one in the JWKS; old tokens still verify', async () => {
    const file = join(dir, 'rotate.json');
    const cfg = join(dir, 'rotate.yaml');
    writeFileSync(cfg, config(`{ file: ${file} }`));
    const first = await gatewayWith(config(`{ file: ${file} }`), { identity: acceptAnyBearerForTests() });
    const client = new Client({ name: 'keys-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(first.url), { requestInit: { headers: { authorization: 'Bearer t' } } }));
    await client.callTool({ name: 'a__echo', arguments: { text: 'before rotation' } });
    await client.close();
    await first.close();
    const oldCall = upstream.requests.filter((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call').at(-1)!;
    const oldKid = (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<{ kid: string }> }).keys[0]!.kid;

    const { stdout } = await run(process.execPath, [...CLI_ARGS, 'keys', 'rotate', '--config', cfg]);
    assert.match(stdout, /new Ed25519 key .* signs from now on; 1 earlier key\(s\) stay in the JWKS for 600 s/);
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const second = await gatewayWith(config(`{ file: ${file} }`), { identity: acceptAnyBearerForTests() });
    try {
      const jwksUrl = second.url.replace(/\/mcp$/, '/.well-known/jwks.json');
      const jwks = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
      assert.equal(jwks.keys.length, 2);
      assert.ok(jwks.keys.some((k) => k.kid === oldKid));
      const verifier = new CallVerifier({ replay: 'memory', jwksUrl, audience: upstream.url });
      const chain = await verifier.verify(String(oldCall.headers.authorization), oldCall.body);
      assert.equal(chain?.agent, 'sales-bot', 'a token signed before the rotation verifies against the new JWKS');
      const { stdout: printed } = await run(process.execPath, [...CLI_ARGS, 'keys', 'jwks', '--file', file]);
      assert.deepEqual((JSON.parse(printed) as { keys: unknown[] }).keys, jwks.keys);
    } finally {
      await second.close();
    }
  });

  test('a running gateway picks up a rotated key file (KeyHolder re-reads it; clock advanced, no sleeping)', async () => {
    const file = join(dir, 'holder.json');
    let now = Date.now();
    const settings = parseConfig(config(`{ file: ${file} }`), join(dir, 'x.yaml')).credentials!;
    const holder = new KeyHolder(settings, () => now);
    const before = holder.current().current.kid;
    const { stdout } = await run(process.execPath, [...CLI_ARGS, 'keys', 'rotate', '--file', file, '--algorithm', 'ES256', '--overlap', '60']);
    assert.match(stdout, /new ES256 key/);
    assert.equal(holder.current().current.kid, before, 'checked at most every few seconds');
    now += 6_000;
    const after = holder.current();
    assert.notEqual(after.current.kid, before);
    assert.equal(after.current.alg, 'ES256');
    assert.equal(after.jwks(Math.floor(now / 1000)).keys.length, 2);
  });

  test('a rotated-out key leaves the JWKS once its overlap has passed', () => {
    const t = 1_800_000_000;
    const ring = KeyRing.generate('Ed25519', t).rotated('Ed25519', 60, t + 10);
    assert.equal(ring.jwks(t + 69).keys.length, 2);
    assert.equal(ring.jwks(t + 70).keys.length, 1);
    assert.equal(ring.rotated('Ed25519', 60, t + 71).keys.length, 2, 'the expired key is dropped at the next rotation');
  });

  test('keys from an environment variable (the key file JSON); ES256 tokens verify', async () => {
    const ring = KeyRing.generate('ES256', Math.floor(Date.now() / 1000));
    const file = join(dir, 'env-source.json');
    const { saveKeyRing } = await import('../src/credentials/key-store.js');
    saveKeyRing(file, ring);
    process.env.TOOLGATE_TEST_SIGNING_KEYS = readFileSync(file, 'utf8');
    try {
      const cfg = parseConfig(config('{ env: TOOLGATE_TEST_SIGNING_KEYS }', '  algorithm: ES256\n'), 'env.yaml');
      const holder = new KeyHolder(cfg.credentials!, Date.now);
      assert.equal(holder.current().current.kid, ring.current.kid);
      const minter = new CallTokenMinter(holder.current, { issuer: 'toolgate', instance: 'gw' });
      const token = minter.mint(principal, invocation, ctx, { audience: upstream.url, lifetimeSeconds: 30, scopes: [] }).token;
      const verifier = new CallVerifier({ replay: 'memory', keys: holder.current().jwks(Math.floor(Date.now() / 1000)) as never, audience: upstream.url });
      assert.equal((await verifier.verify(`Bearer ${token}`, callBody))?.agent, 'sales-bot');
    } finally {
      delete process.env.TOOLGATE_TEST_SIGNING_KEYS;
    }
  });

  test('start-up stops on bad keys: an empty env variable, a corrupt key file (both named)', async () => {
    await assert.rejects(gatewayWith(config('{ env: TOOLGATE_TEST_NO_SUCH_KEYS }')), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_SIGNING_KEY_MISSING');
      assert.match(err.message, /TOOLGATE_TEST_NO_SUCH_KEYS/);
      return true;
    });
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"keys":[{"kid":"x","algorithm":"Ed25519","created_at":1,"private_jwk":{"kty":"OKP"}}]}');
    await assert.rejects(gatewayWith(config(`{ file: ${corrupt} }`)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_SIGNING_KEY_INVALID');
      assert.match(err.message, /corrupt\.json: key x is not a usable private JWK/);
      return true;
    });
  });
});

describe('credential config', () => {
  test("without a credentials section upstreams get no credential (today's behaviour)", () => {
    const cfg = parseConfig('upstreams:\n  - id: a\n    url: http://127.0.0.1:1/mcp\n', 't.yaml');
    assert.equal(cfg.credentials, undefined);
    assert.equal(cfg.upstreams[0]!.credential, undefined);
  });

  test('with one, upstreams default to minted for their URL (stdio: urn:toolgate:upstream:<id>), 30 s; lifetimes capped at the maximum', () => {
    const cfg = parseConfig(
      `credentials:
  keys: { ephemeral: true }
  max_lifetime_seconds: 45
upstreams:
  - id: a
    url: http://127.0.0.1:1/mcp
  - id: b
    url: http://127.0.0.1:2/mcp
    credential: { audience: urn:b, lifetime_seconds: 900, scopes: { "*": [crm.read] } }
  - id: s
    command: node
`,
      't.yaml',
    );
    assert.deepEqual(cfg.upstreams[0]!.credential, { mode: 'minted', audience: 'http://127.0.0.1:1/mcp', lifetimeSeconds: 30, scopes: {} });
    assert.deepEqual(cfg.upstreams[1]!.credential, { mode: 'minted', audience: 'urn:b', lifetimeSeconds: 45, scopes: { '*': ['crm.read'] } });
    assert.deepEqual(cfg.upstreams[2]!.credential, { mode: 'minted', audience: 'urn:toolgate:upstream:s', lifetimeSeconds: 30, scopes: {} });
    assert.equal(cfg.credentials?.algorithm, 'Ed25519');
  });

  test('mode token_exchange without token_endpoint and client_secret, and static without value → each key named', () => {
    assert.throws(
      () =>
        parseConfig(
          `upstreams:
  - id: a
    url: http://127.0.0.1:1/mcp
    credential: { mode: token_exchange, client_id: toolgate }
  - id: b
    url: http://127.0.0.1:2/mcp
    credential: { mode: static, header: x-api-key }
`,
          't.yaml',
        ),
      (err: Error) => {
        assert.match(err.message, /upstreams\[0\]\.credential\.token_endpoint.*required when mode is token_exchange/);
        assert.match(err.message, /upstreams\[0\]\.credential\.client_secret.*required when mode is token_exchange/);
        assert.match(err.message, /upstreams\[1\]\.credential\.value.*required when mode is static/);
        return true;
      },
    );
  });

  test('mode "forward" (passing the client token through) is not a mode', () => {
    assert.throws(
      () => parseConfig('upstreams:\n  - id: a\n    url: http://127.0.0.1:1/mcp\n    credential: { mode: forward }\n', 't.yaml'),
      /expected one of minted, token_exchange, static, none/,
    );
  });
});
