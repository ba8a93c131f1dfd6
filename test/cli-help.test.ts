/**
 * The command line explains itself: `toolgate --version` prints package.json's version, and
 * `--help` (or `-h`) on every command and sub-command prints, on stdout with exit 0, the usage
 * naming that command's options — instead of running it or refusing the flag.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
// Compiled (dist/test): dist/src/cli/main.js; from source: the .ts file under tsx.
const compiledCli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const CLI_ARGS = existsSync(compiledCli) ? [compiledCli] : ['--import', 'tsx', fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))];
const manifest = [new URL('../package.json', import.meta.url), new URL('../../package.json', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'toolgate')!;
const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI_ARGS, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Each command line, and options its help must name. */
const COMMANDS: Array<[string[], string[]]> = [
  [['serve'], ['--config']],
  [['demo'], ['--port', '--crm-port']],
  [['token'], ['--agent', '--user', '--scope', '--tenant', '--ttl', '--issuer-file']],
  [['policy', 'validate'], ['--config']],
  [
    ['policy', 'test'],
    ['--config', '--policies'],
  ],
  [
    ['policy', 'explain'],
    ['--agent', '--tool', '--arguments', '--no-session'],
  ],
  [
    ['policy', 'suggest'],
    ['--since', '--until', '--out', '--force', '--at'],
  ],
  [
    ['policy', 'shadow'],
    ['--since', '--json'],
  ],
  [['policy', 'promote'], ['--force']],
  [
    ['report', 'usage'],
    ['--config', '--by', '--json', '--html', '--since', '--until'],
  ],
  [
    ['report', 'scopes'],
    ['--config', '--db', '--home'],
  ],
  [['tools', 'list'], ['--config']],
  [
    ['tools', 'approve'],
    ['--config', '--all'],
  ],
  [
    ['keys', 'rotate'],
    ['--config', '--file', '--algorithm', '--overlap'],
  ],
  [['keys', 'jwks'], ['--file']],
  [
    ['audit', 'verify'],
    ['--bundle', '--trust-key', '--json'],
  ],
  [
    ['audit', 'query'],
    ['--agent', '--verdict', '--limit'],
  ],
  [['audit', 'export'], ['--out']],
];

describe('toolgate --version and --help', { concurrency: 4 }, () => {
  test(`toolgate --version prints ${version}, the version in package.json`, async () => {
    const r = await cli('--version');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  });

  test('toolgate --help lists every command and says each takes --help', async () => {
    const r = await cli('--help');
    assert.equal(r.code, 0, r.stderr);
    for (const verb of ['serve', 'demo', 'token', 'keys', 'audit', 'policy', 'report', 'tools', '--version']) assert.match(r.stdout, new RegExp(`toolgate ${verb}\\b`));
    assert.match(r.stdout, /--help/);
  });

  for (const [words, options] of COMMANDS) {
    for (const flag of words.length === 1 ? ['--help', '-h'] : ['--help']) {
      test(`toolgate ${words.join(' ')} ${flag}: usage on stdout, exit 0, names ${options.join(' ')}`, async () => {
        const r = await cli(...words, flag);
        assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
        assert.equal(r.stderr, '');
        assert.match(r.stdout, new RegExp(`toolgate ${words.join(' ')}\\b`));
        for (const option of options) assert.ok(r.stdout.includes(option), `${option} missing from:\n${r.stdout}`);
      });
    }
  }

  test('-h after other options still asks for help, and nothing runs: toolgate keys rotate --file X -h writes no key file', async () => {
    const file = fileURLToPath(new URL(`../.toolgate-help-test-${process.pid}.json`, import.meta.url));
    const r = await cli('keys', 'rotate', '--file', file, '-h');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /toolgate keys rotate/);
    assert.equal(existsSync(file), false);
  });
});
