/**
 * @toolgate/verify as a server author gets it: the package is packed with `npm pack`, installed
 * from the tarball into an empty project, and that installed copy — run by plain `node` in that
 * project, not the workspace sources — verifies a per-call token a real gateway minted for a
 * real call, and refuses the same token with altered arguments. The install brings the verifier
 * and its two plain-JavaScript dependencies, nothing native and nothing of the gateway.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RunningGateway } from '../src/gateway.js';
import { acceptAnyBearerForTests } from './support/bearer-identity.js';
import { gatewayWith } from './support/gateway.js';
import { type RecordingUpstream, startRecordingUpstream } from './support/recording-upstream.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// From source (test/) the package is one folder up; from the build (dist/test/) two.
const packageDir = [new URL('../packages/verify/', import.meta.url), new URL('../../packages/verify/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(join(dir, 'package.json')))!;
const declared = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };

/** What the installed copy is asked to do: verify the captured call, the same token with other arguments, and the captured call again. */
const CHECK_SCRIPT = `import { CallVerifier } from '@toolgate/verify';
const input = JSON.parse(process.argv[2]);
const verifier = new CallVerifier({ jwksUrl: input.jwksUrl, audience: input.audience, issuer: input.issuer });
const outcome = async (body) => {
  try {
    const chain = await verifier.verify(input.authorization, body);
    return { accepted: true, user: chain.user, agent: chain.agent, tool: chain.tool, issuer: chain.gateway.issuer };
  } catch (err) {
    return { accepted: false, code: err.code };
  }
};
const tampered = await outcome(input.tampered);
const genuine = await outcome(input.body);
const replayed = await outcome(input.body);
process.stdout.write(JSON.stringify({ resolved: import.meta.resolve('@toolgate/verify'), tampered, genuine, replayed }));
`;

/** Package folders under node_modules (scoped ones as `@scope/name`). */
function installedPackages(nodeModules: string): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const sub of readdirSync(join(nodeModules, entry))) names.push(`${entry}/${sub}`);
    else names.push(entry);
  }
  return names.sort();
}

/** Every path under `dir` whose name says a native build: binding.gyp, a compiled `.node`, a `build/` folder. */
function nativeBuildTraces(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.name === 'binding.gyp' || entry.name.endsWith('.node') || (entry.isDirectory() && entry.name === 'build')) found.push(path);
  }
  return found;
}

describe('@toolgate/verify installed from its tarball', () => {
  let work: string;
  let project: string;
  let packed: { filename: string; files: Array<{ path: string }> };
  let upstream: RecordingUpstream;
  let gateway: RunningGateway;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'toolgate-verify-package-'));
    // Packed from a copy of the package's sources, so its prepack build writes there and not under
    // packages/verify/dist, which other tests' child processes may be loading at the same time.
    // The copy borrows the repository's node_modules for the compiler and the types.
    const sources = join(work, 'verify');
    cpSync(packageDir, sources, { recursive: true, filter: (from) => !/[\\/](dist|node_modules)$/.test(from) });
    symlinkSync(join(packageDir, '..', '..', 'node_modules'), join(sources, 'node_modules'), 'dir');
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work], { cwd: sources });
    [packed] = JSON.parse(stdout) as Array<typeof packed>;
    project = join(work, 'server');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'an-mcp-server', version: '1.0.0', private: true, type: 'module' }));
    // jose and canonicalize come from the npm cache when it has them, else from the registry.
    await run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed.filename)], { cwd: project });
    writeFileSync(join(project, 'check.mjs'), CHECK_SCRIPT);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds the built JavaScript, its type declarations and the README', () => {
    const files = packed.files.map((f) => f.path);
    for (const wanted of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/verifier.js', 'dist/verifier.d.ts'])
      assert.ok(files.includes(wanted), `${wanted} missing from ${files.join(', ')}`);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
      [],
      'TypeScript sources shipped',
    );
  });

  test('installing it brings the verifier, jose and canonicalize only: no native build, no gateway dependencies', () => {
    assert.deepEqual(Object.keys(declared.dependencies).sort(), ['canonicalize', 'jose']);
    assert.deepEqual(installedPackages(join(project, 'node_modules')), ['@toolgate/verify', 'canonicalize', 'jose']);
    assert.deepEqual(nativeBuildTraces(join(project, 'node_modules')), []);
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    assert.deepEqual(
      Object.entries(lock.packages)
        .filter(([, p]) => p.hasInstallScript)
        .map(([name]) => name),
      [],
      'a package with an install script',
    );
  });

  describe('against a running gateway', () => {
    let client: Client;
    let jwksUrl: string;

    before(async () => {
      upstream = await startRecordingUpstream();
      gateway = await gatewayWith(
        `credentials:
  issuer: https://toolgate.test
  instance: gw-1
  keys: { ephemeral: true }
upstreams:
  - id: crm
    url: ${upstream.url}
`,
        { identity: acceptAnyBearerForTests({ agent: 'sales-bot', user: 'alice' }) },
      );
      jwksUrl = gateway.url.replace(/\/mcp$/, '/.well-known/jwks.json');
      client = new Client({ name: 'verify-package-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: 'Bearer client-token' } } }));
    });

    after(async () => {
      await client?.close();
      await gateway?.close();
      await upstream?.close();
    });

    test('the installed copy accepts the token the gateway minted for a call, refuses it for altered arguments (ERR_ARGUMENTS_MISMATCH) and a second use', async () => {
      await client.callTool({ name: 'crm__echo', arguments: { text: 'quarterly report', n: 3 } });
      assert.deepEqual(upstream.executed, [{ tool: 'echo', args: { text: 'quarterly report', n: 3 } }]);
      const call = upstream.requests.find((r) => (r.body as { method?: string } | undefined)?.method === 'tools/call');
      assert.ok(call, 'the upstream saw no tools/call');
      const authorization = String(call.headers.authorization);
      assert.match(authorization, /^Bearer ey/);
      const body = call.body as { params: { arguments: Record<string, unknown> } };
      const tampered = { ...body, params: { ...body.params, arguments: { ...body.params.arguments, text: 'all salaries' } } };

      const input = { jwksUrl, audience: upstream.url, issuer: 'https://toolgate.test', authorization, body, tampered };
      const { stdout } = await run(process.execPath, ['check.mjs', JSON.stringify(input)], { cwd: project });
      const result = JSON.parse(stdout) as { resolved: string; tampered: Record<string, unknown>; genuine: Record<string, unknown>; replayed: Record<string, unknown> };

      // The script ran the copy installed from the tarball, not the workspace's sources or link.
      const resolved = realpathSync(fileURLToPath(result.resolved));
      assert.equal(resolved, realpathSync(join(project, 'node_modules', '@toolgate', 'verify', 'dist', 'index.js')));
      assert.deepEqual(result.tampered, { accepted: false, code: 'ERR_ARGUMENTS_MISMATCH' });
      assert.deepEqual(result.genuine, { accepted: true, user: 'alice', agent: 'sales-bot', tool: 'echo', issuer: 'https://toolgate.test' });
      assert.deepEqual(result.replayed, { accepted: false, code: 'ERR_TOKEN_REPLAYED' });
    });
  });
});
