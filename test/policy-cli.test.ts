/**
 * `toolgate policy validate|test|explain` against the real example servers (CRM over HTTP, HR
 * over stdio) and examples/policies, including its test table examples/policies/tests.yaml.
 */

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CrmServerHandle, startCrmServer } from '../examples/crm/server.js';
import { exampleCommand } from '../src/cli/demo.js';
import { policyCommand as run } from './support/policy-command.js';
import { EXAMPLE_POLICIES } from './support/policy-world.js';

const TABLE = fileURLToPath(new URL('../examples/policies/tests.yaml', import.meta.url));

describe('toolgate policy', () => {
  let crm: CrmServerHandle;
  let dir: string;
  let config: string;
  before(async () => {
    crm = await startCrmServer({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'toolgate-policy-cli-'));
    cpSync(EXAMPLE_POLICIES, join(dir, 'policies'), { recursive: true });
    const hr = exampleCommand('hr');
    config = join(dir, 'toolgate.yaml');
    writeFileSync(
      config,
      `upstreams:\n  - id: crm\n    url: ${crm.url}\n  - id: hr\n    command: ${JSON.stringify(hr.command)}\n    args: ${JSON.stringify(hr.args)}\npolicy:\n  files: policies/\n`,
    );
  });
  after(async () => {
    await crm?.close();
  });

  test('validate: ok with the policy count and hash', async () => {
    const r = await run('validate', '--config', config);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ok: 13 policies valid against the schema of \d+ tools \(sha256:[0-9a-f]{64}\)/);
  });

  test('test examples/policies/tests.yaml: every row passes', async () => {
    const r = await run('test', TABLE, '--config', config);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /11 of 11 passed/);
  });

  test('test: a row expecting the wrong verdict (write at 19:30 expected allow) fails with exit 1', async () => {
    const table = join(dir, 'wrong.yaml');
    writeFileSync(
      table,
      `cases:\n  - principal: { agent: sales-bot, user: alice, tenant: acme }\n    tool: crm__write_contact\n    arguments: { tenant: acme, first_name: A, last_name: B, email: a@acme.example }\n    time: "2026-11-24T18:30:00Z"\n    expect: allow\n`,
    );
    const r = await run('test', table, '--config', config);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL 1 sales-bot crm__write_contact: deny by crm-writes-business-hours; expected allow/);
  });

  test('explain: names the deciding policy with file:line and shows the 403 scope', async () => {
    const r = await run(
      'explain',
      '--config',
      config,
      '--agent',
      'hr-assistant',
      '--user',
      'bob',
      '--tenant',
      'acme',
      '--tool',
      'hr__read_employee',
      '--arguments',
      '{"tenant":"acme","employee_id":"E1002"}',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /DENY/);
    assert.match(r.out, new RegExp(`decided by hr-read-needs-scope \\(${join(dir, 'policies', 'hr.cedar').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:11\\)`));
    assert.match(r.out, /would be allowed with scope: hr\.employee\.read/);
  });

  test('validate with a policy guarded by `context.arguments has tenantt` (a typo, never true): refused as impossible with file:line', async () => {
    const bad = join(dir, 'bad');
    cpSync(join(dir, 'policies'), bad, { recursive: true });
    writeFileSync(
      join(bad, 'extra.cedar'),
      '\n\npermit (principal, action == Action::"crm/write_contact", resource)\nwhen { context.arguments has tenantt && context.arguments.tenantt == "acme" };\n',
    );
    const badConfig = join(dir, 'bad.yaml');
    writeFileSync(badConfig, (await import('node:fs')).readFileSync(config, 'utf8').replace('files: policies/', 'files: bad/'));
    const r = await run('validate', '--config', badConfig);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`policy refused: ${join(bad, 'extra.cedar').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:1: for policy \`extra.cedar#0\`, policy is impossible`));
  });

  test('validate, run as its own process, with the HR server crashing at start: exit 1 naming hr as the cause, not a silent exit 0', async () => {
    const crashing = join(dir, 'hr-crashes.yaml');
    writeFileSync(
      crashing,
      `upstreams:\n  - id: crm\n    url: ${crm.url}\n  - id: hr\n    command: ${JSON.stringify(process.execPath)}\n    args: ["-e", "process.exit(3)"]\n    timeouts: { connect_ms: 500 }\npolicy:\n  files: policies/\n`,
    );
    const { execFile } = await import('node:child_process');
    const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', main, 'policy', 'validate', '--config', crashing], (error, _stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stderr }),
      );
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /policy refused: .*hr\.cedar:\d+:\d+: .*\(upstream hr did not answer, so its tools are missing from the schema: start it and try again\)/);
  });
});
