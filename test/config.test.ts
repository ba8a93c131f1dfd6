import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, type ConfigErrorCode } from '../src/config/errors.js';
import { loadConfig, parseConfig } from '../src/config/load.js';

/** A config file in a fresh temp folder; removed when the test ends. */
function tempConfig(t: { after(fn: () => void): void }, text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

/** Runs `load`, expects a ConfigError with `code`, and returns it. */
function refused(code: ConfigErrorCode, load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the config was accepted`);
}

const MINIMAL = 'upstreams:\n  - id: crm\n    url: http://127.0.0.1:7421/mcp\n';

test('a config setting every key loads into GatewayConfig, with env values and paths resolved', (t) => {
  const { dir, file } = tempConfig(
    t,
    `listener:
  host: 0.0.0.0
  port: \${PORT}
  path: /gateway
  public_url: https://gw.example.com/
  allowed_origins: [https://app.example.com/]
  allowed_hosts: [GW.example.com, 10.0.0.5:8080]
  max_body_bytes: 1048576
  session_idle_seconds: 600
upstreams:
  - id: crm
    url: https://crm.internal/mcp
    headers: { X-Api-Key: "\${CRM_KEY}", X-Literal: "$\${not_a_var}" }
    prefix: "crm."
    protocol: 2025-11-25
    timeouts: { connect_ms: 500, request_ms: 1500 }
  - id: hr
    command: ./bin/hr-server
    args: [./examples/hr/server.js, --verbose]
    env: { HR_MODE: "\${HR_MODE:-demo}" }
    cwd: work
    prefix: ""
`,
  );
  const config = loadConfig(file, { PORT: '8080', CRM_KEY: 's3cret' });
  assert.deepEqual(config, {
    source: file,
    listener: {
      host: '0.0.0.0',
      port: 8080,
      path: '/gateway',
      publicUrl: 'https://gw.example.com',
      allowedOrigins: ['https://app.example.com'],
      allowedHosts: ['gw.example.com', '10.0.0.5:8080'],
      maxBodyBytes: 1_048_576,
      sessionIdleSeconds: 600,
      limits: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 65_000,
        maxRequestsPerSocket: 1000,
        maxConnections: 1024,
        maxConnectionsPerAddress: 256,
        unauthenticatedBodyBytes: 16 * 1024,
      },
    },
    upstreams: [
      {
        id: 'crm',
        transport: { type: 'http', url: 'https://crm.internal/mcp', headers: { 'X-Api-Key': 's3cret', 'X-Literal': '${not_a_var}' } },
        prefix: 'crm.',
        protocol: '2025-11-25',
        timeouts: { connectMs: 500, requestMs: 1500 },
      },
      {
        id: 'hr',
        // command and cwd are anchored at the config's folder; args are passed as written.
        transport: {
          type: 'stdio',
          command: join(dir, 'bin/hr-server'),
          args: ['./examples/hr/server.js', '--verbose'],
          env: { HR_MODE: 'demo' },
          cwd: join(dir, 'work'),
        },
        prefix: '',
        protocol: 'auto',
        timeouts: { connectMs: 10_000, requestMs: 60_000 },
      },
    ],
  });
});

test('a config with only one upstream gets every default', () => {
  const config = parseConfig(MINIMAL, 'config.yaml', {});
  assert.deepEqual(config.listener, {
    host: '127.0.0.1',
    port: 7420,
    path: '/mcp',
    allowedOrigins: ['http://127.0.0.1:7420', 'http://localhost:7420', 'http://[::1]:7420'],
    allowedHosts: ['127.0.0.1:7420', 'localhost:7420', '[::1]:7420'],
    maxBodyBytes: 4 * 1024 * 1024,
    sessionIdleSeconds: 3600,
    limits: {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
      maxRequestsPerSocket: 1000,
      maxConnections: 1024,
      maxConnectionsPerAddress: 256,
      unauthenticatedBodyBytes: 16 * 1024,
    },
  });
  assert.deepEqual(config.upstreams, [
    {
      id: 'crm',
      transport: { type: 'http', url: 'http://127.0.0.1:7421/mcp', headers: {} },
      prefix: 'crm__',
      protocol: 'auto',
      timeouts: { connectMs: 10_000, requestMs: 60_000 },
    },
  ]);
});

test('default allowed hosts and origins follow host, port and public_url', () => {
  const config = parseConfig(`listener:\n  host: "::1"\n  port: 9000\n  public_url: https://gw.example.com/base\n${MINIMAL}`, 'config.yaml', {});
  assert.deepEqual(config.listener.allowedHosts, ['127.0.0.1:9000', 'localhost:9000', '[::1]:9000', 'gw.example.com']);
  assert.deepEqual(config.listener.allowedOrigins, ['http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000', 'https://gw.example.com']);
  assert.equal(config.listener.publicUrl, 'https://gw.example.com/base');
});

test('an empty value (`listener:` with every child commented out) means "use the defaults"', () => {
  const config = parseConfig(`listener:\n  # port: 9000\n${MINIMAL}`, 'config.yaml', {});
  assert.equal(config.listener.port, 7420);
});

test('no upstreams key: ERR_CONFIG_INVALID naming upstreams', () => {
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig('listener:\n  port: 7420\n', 'config.yaml', {}));
  assert.match(error.message, /^config\.yaml:1:1: upstreams: missing; expected a list of upstreams$/);
});

test('an empty upstreams list: ERR_CONFIG_INVALID asking for at least one', () => {
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig('upstreams: []\n', 'config.yaml', {}));
  assert.equal(error.message, 'config.yaml:1:12: upstreams: expected a list of at least one upstream, got a list');
});

test('an empty file: ERR_CONFIG_INVALID saying it is empty', () => {
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig('# nothing yet\n', 'config.yaml', {}));
  assert.equal(error.message, 'config.yaml: the file is empty; expected a mapping with at least upstreams');
});

test('a typo `prot:` under listener: unknown key, with the likely intended key', () => {
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig(`listener:\n  prot: 8080\n${MINIMAL}`, 'config.yaml', {}));
  assert.equal(error.message, 'config.yaml:2:9: listener.prot: unknown key; did you mean "port"?');
});

test("a typo `conect_ms` inside an upstream's timeouts: the key path goes through the list index", () => {
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig(`${MINIMAL}    timeouts: { conect_ms: 5 }\n`, 'config.yaml', {}));
  assert.match(error.message, /: upstreams\[0\]\.timeouts\.conect_ms: unknown key; did you mean "connect_ms"\?$/);
});

test('an unknown key with no near match lists the keys that are allowed', () => {
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig(`${MINIMAL}logging: debug\n`, 'config.yaml', {}));
  // Each stage adds its own top-level section (auth, policy, credentials, audit, …).
  assert.match(error.message, /: logging: unknown key; expected one of listener, (\w+, )*upstreams$/);
});

test('port "fast", port 70000 and port -1: ERR_CONFIG_INVALID naming listener.port', () => {
  for (const [port, got] of [
    ['fast', '"fast"'],
    ['70000', '70000'],
    ['-1', '-1'],
  ] as const) {
    const error = refused('ERR_CONFIG_INVALID', () => parseConfig(`listener:\n  port: ${port}\n${MINIMAL}`, 'config.yaml', {}));
    assert.equal(error.message, `config.yaml:2:9: listener.port: expected a port number from 0 to 65535 (0: any free port), got ${got}`);
  }
});

test('port 0 (any free port) is accepted', () => {
  assert.equal(parseConfig(`listener:\n  port: 0\n${MINIMAL}`, 'config.yaml', {}).listener.port, 0);
});

test('request_ms "fast" in the second upstream: the message names the exact key path', () => {
  const text = `${MINIMAL}  - id: hr\n    command: node\n    timeouts:\n      request_ms: fast\n`;
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig(text, 'config.yaml', {}));
  assert.equal(error.message, 'config.yaml:7:19: upstreams[1].timeouts.request_ms: expected a positive integer, got "fast"');
  assert.deepEqual(error.problems[0]?.path, ['upstreams', 1, 'timeouts', 'request_ms']);
});

test('two upstreams with id "crm": the duplicate names both positions', () => {
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig(`${MINIMAL}  - id: crm\n    command: node\n`, 'config.yaml', {}));
  assert.equal(error.message, 'config.yaml:4:9: upstreams[1].id: duplicate id "crm", already used by upstreams[0]');
});

test('an upstream with both url and command is refused; so is one with neither', () => {
  const both = refused('ERR_CONFIG_INVALID', () => parseConfig(`${MINIMAL}    command: node\n`, 'config.yaml', {}));
  assert.match(both.message, /^config\.yaml:2:5: upstreams\[0\]: has both url and command;/);
  const neither = refused('ERR_CONFIG_INVALID', () => parseConfig('upstreams:\n  - id: crm\n', 'config.yaml', {}));
  assert.match(neither.message, /^config\.yaml:2:5: upstreams\[0\]: missing url or command;/);
});

test('headers on a stdio upstream and cwd on an HTTP upstream are refused', () => {
  const text = `${MINIMAL}    cwd: here\n  - id: hr\n    command: node\n    headers: { X-A: b }\n`;
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig(text, 'config.yaml', {}));
  assert.deepEqual(
    error.problems.map((problem) => problem.path),
    [
      ['upstreams', 0, 'cwd'],
      ['upstreams', 1, 'headers'],
    ],
  );
});

test('url ftp://host/mcp: expected an http(s) URL', () => {
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig('upstreams:\n  - id: crm\n    url: ftp://host/mcp\n', 'config.yaml', {}));
  assert.equal(error.message, 'config.yaml:3:10: upstreams[0].url: expected an http:// or https:// URL, got "ftp://host/mcp"');
});

test('a file with several mistakes reports every one, in file order', () => {
  const text = `listener:\n  port: fast\n  path: mcp\nupstreams:\n  - id: Bad!\n    url: http://x/mcp\n    protocol: 2024-01-01\n`;
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig(text, 'config.yaml', {}));
  assert.deepEqual(
    error.problems.map((problem) => [problem.line, problem.path.join('.')]),
    [
      [2, 'listener.port'],
      [3, 'listener.path'],
      [5, 'upstreams.0.id'],
      [7, 'upstreams.0.protocol'],
    ],
  );
  assert.equal(error.message.split('\n').length, 4);
});

test('${CRM_KEY} unset: ERR_CONFIG_ENV naming the variable and where it is used', () => {
  const text = `${MINIMAL}    headers:\n      X-Api-Key: "\${CRM_KEY}"\n`;
  const error = refused('ERR_CONFIG_ENV', () => parseConfig(text, 'config.yaml', { OTHER: 'x' }));
  assert.equal(error.message, 'config.yaml:5:18: upstreams[0].headers.X-Api-Key: environment variable CRM_KEY is not set');
});

test('${CRM_KEY:-fallback} uses the fallback when CRM_KEY is unset or empty, the value when set', () => {
  const text = `${MINIMAL}    headers: { X-Api-Key: "\${CRM_KEY:-fallback}" }\n`;
  const header = (env: Record<string, string>) => {
    const transport = parseConfig(text, 'config.yaml', env).upstreams[0]!.transport;
    return transport.type === 'http' ? transport.headers['X-Api-Key'] : undefined;
  };
  assert.equal(header({}), 'fallback');
  assert.equal(header({ CRM_KEY: '' }), 'fallback');
  assert.equal(header({ CRM_KEY: 'real' }), 'real');
});

test('a malformed reference "${not valid}": ERR_CONFIG_ENV', () => {
  const error = refused('ERR_CONFIG_ENV', () => parseConfig(`${MINIMAL}    prefix: "\${not valid}"\n`, 'config.yaml', {}));
  assert.match(error.message, /upstreams\[0\]\.prefix: malformed reference "\$\{not valid\}"/);
});

test('an invalid value taken from the environment is not echoed (it may be a secret)', () => {
  const text = 'upstreams:\n  - id: crm\n    url: "${CRM_URL}"\n';
  const error = refused('ERR_CONFIG_INVALID', () => parseConfig(text, 'config.yaml', { CRM_URL: 'token-abc123' }));
  assert.equal(error.message, 'config.yaml:3:10: upstreams[0].url: expected an http:// or https:// URL, got a value from ${CRM_URL}');
  assert.doesNotMatch(error.message, /token-abc123/);
});

test('bad YAML (`url http://x/mcp` without a colon, line 3): ERR_CONFIG_YAML with line and column', () => {
  const error = refused('ERR_CONFIG_YAML', () => parseConfig('upstreams:\n  - id: crm\n    url http://x/mcp\n', 'config.yaml', {}));
  assert.equal(error.message, 'config.yaml:3:5: YAML: Implicit map keys need to be followed by map values');
  assert.deepEqual([error.problems[0]?.line, error.problems[0]?.column], [3, 5]);
});

test('bad YAML (a flow list `[a, b` never closed): ERR_CONFIG_YAML at the end of the file', () => {
  const error = refused('ERR_CONFIG_YAML', () => parseConfig('upstreams:\n  - id: crm\n    args: [a, b\n', 'config.yaml', {}));
  assert.match(error.message, /^config\.yaml:4:1: YAML: /);
});

test('a key written twice in YAML (`port:` twice): ERR_CONFIG_YAML at the second one', () => {
  const error = refused('ERR_CONFIG_YAML', () => parseConfig(`listener:\n  port: 1\n  port: 2\n${MINIMAL}`, 'config.yaml', {}));
  assert.match(error.message, /^config\.yaml:3:3: YAML: Map keys must be unique/);
});

test('loadConfig on a path that does not exist: ERR_CONFIG_NOT_FOUND naming the path', (t) => {
  const { dir } = tempConfig(t, MINIMAL);
  const missing = join(dir, 'nope.yaml');
  const error = refused('ERR_CONFIG_NOT_FOUND', () => loadConfig(missing, {}));
  assert.equal(error.message, `${missing}: no such file`);
});

test('loadConfig on a directory: ERR_CONFIG_READ', (t) => {
  const { dir } = tempConfig(t, MINIMAL);
  mkdirSync(join(dir, 'sub'));
  const error = refused('ERR_CONFIG_READ', () => loadConfig(join(dir, 'sub'), {}));
  assert.match(error.message, /is a directory/);
});

test('loadConfig names the file in messages as the caller gave it', (t) => {
  const { file } = tempConfig(t, 'upstreams:\n  - id: crm\n    url: http://x/mcp\n    protocol: latest\n');
  const error = refused('ERR_CONFIG_INVALID', () => loadConfig(file, {}));
  assert.equal(error.message, `${file}:4:15: upstreams[0].protocol: expected one of auto, 2025-06-18, 2025-11-25, 2026-07-28, got "latest"`);
});
