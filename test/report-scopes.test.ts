/**
 * `toolgate report scopes` over the staging day (test/support/staging-world.ts): the demo config's
 * baseline scopes (crm: crm.read, hr: hr.employee.read) and per-call credential scope maps
 * (crm: reads crm.read, writes crm.write, deletes crm.admin; hr: reads hr.employee.read, writes
 * hr.employee.write), a real gateway and SQLite audit log. Expected counts are derived from the
 * STAGING table, not from the code under test.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runReport } from '../src/cli/report.js';
import type { ScopeReport } from '../src/least-privilege/scope-report.js';
import { driveStaging, PRINCIPALS, STAGING, type StagingWorld, startStagingWorld } from './support/staging-world.js';

const ROOT = new URL('..', import.meta.url).pathname;
const WRITE = /^crm__(create|update|write|merge|add|complete|bulk)_/;
const DELETE = /^crm__delete_/;

let world: StagingWorld;
let report: ScopeReport;

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runReport(
    args,
    (s) => (out += s),
    (s) => (err += s),
  );
  return { code, out, err };
}

/** Allowed calls in STAGING matching `pick`: how many, and which tools. */
function expected(pick: (s: (typeof STAGING)[number]) => boolean): { calls: number; tools: string[] } {
  const steps = STAGING.filter((s) => s.verdict === 'allow' && pick(s));
  return { calls: steps.reduce((n, s) => n + s.times, 0), tools: [...new Set(steps.map((s) => s.tool))].sort() };
}

before(async () => {
  world = await startStagingWorld();
  await driveStaging(world);
  const r = await run('scopes', '--config', world.configFile, '--json');
  assert.equal(r.code, 0, r.err);
  report = JSON.parse(r.out) as ScopeReport;
});
after(async () => {
  await world?.close();
});

describe('report scopes: the upstream side', () => {
  test('crm: baseline crm.read needed by every allowed crm call; minted crm.read by the reads, crm.write by the writes, crm.admin by none', () => {
    const crm = report.upstreams.find((u) => u.upstream === 'crm')!;
    const all = expected((s) => s.tool.startsWith('crm__'));
    assert.deepEqual(crm.baseline, [{ scope: 'crm.read', ...all }]);
    assert.equal(crm.credential.mode, 'minted');
    const use = Object.fromEntries(crm.credential.scopes.map((s) => [s.scope, { calls: s.calls, tools: s.tools }]));
    assert.deepEqual(use, {
      'crm.admin': expected((s) => DELETE.test(s.tool)),
      'crm.read': expected((s) => s.tool.startsWith('crm__') && !WRITE.test(s.tool) && !DELETE.test(s.tool)),
      'crm.write': expected((s) => WRITE.test(s.tool)),
    });
    assert.equal(use['crm.admin']!.calls, 0, 'the one delete in STAGING was denied');
    assert.deepEqual(crm.unneededCredentialScopes, ['crm.admin']);
    assert.deepEqual(crm.unneededBaseline, []);
  });

  test('hr: hr.employee.write (update_salary, terminate_employee) never minted, since the one update_salary was denied', () => {
    const hr = report.upstreams.find((u) => u.upstream === 'hr')!;
    const reads = expected((s) => s.tool.startsWith('hr__'));
    assert.deepEqual(hr.baseline, [{ scope: 'hr.employee.read', ...reads }]);
    assert.deepEqual(hr.credential.scopes, [
      { scope: 'hr.employee.read', ...reads },
      { scope: 'hr.employee.write', calls: 0, tools: [] },
    ]);
    assert.deepEqual(hr.unneededCredentialScopes, ['hr.employee.write']);
  });
});

describe('report scopes: the caller side', () => {
  test('sales-bot carried crm.read crm.write crm.admin; only crm.read (crm baseline) was needed — the CRM policies name no @scope', () => {
    const a = report.agents.find((x) => x.agent === 'sales-bot')!;
    assert.deepEqual(a.seen, ['crm.admin', 'crm.read', 'crm.write']);
    assert.deepEqual(a.needed, [{ scope: 'crm.read', ...expected((s) => PRINCIPALS[s.who]['x-test-agent'] === 'sales-bot'), because: ['baseline of crm'] }]);
    assert.deepEqual(a.unneeded, ['crm.admin', 'crm.write']);
  });

  test('hr-assistant needed hr.employee.read both as hr baseline and as the @scope of the deciding permit hr-read-with-scope', () => {
    const a = report.agents.find((x) => x.agent === 'hr-assistant')!;
    assert.deepEqual(
      a.needed.map((n) => [n.scope, n.calls, n.because]),
      [['hr.employee.read', 3, ['@scope of hr-read-with-scope', 'baseline of hr']]],
    );
    assert.deepEqual(a.unneeded, []);
  });

  test("the spawned CLI prints the drop advice for crm.admin and hr.employee.write and sales-bot's unneeded crm.write", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'report', 'scopes', '--config', world.configFile], { cwd: ROOT });
    assert.match(stdout, /the service account behind crm can drop crm\.admin: no allowed call needed it/);
    assert.match(stdout, /the service account behind hr can drop hr\.employee\.write: no allowed call needed it/);
    assert.match(stdout, /^ {2}sales-bot\s+crm\.write\s+0\s+carried but no allowed call needed it$/m);
    assert.match(stdout, /^ {2}credential \(minted\)\s+crm\.write\s+2\s+crm__write_contact$/m);
  });
});

describe('report scopes: bad input', () => {
  const cases: Array<{ title: string; args: () => string[]; message: RegExp }> = [
    { title: '--by (a usage option)', args: () => ['scopes', '--config', world.configFile, '--by', 'agent'], message: /--by is for report usage only/ },
    { title: 'bad --until "noon"', args: () => ['scopes', '--config', world.configFile, '--until', 'noon'], message: /--until expects a time like/ },
    { title: 'no --config', args: () => ['scopes'], message: /report scopes needs --config FILE/ },
    { title: 'an unknown option --verbose', args: () => ['scopes', '--config', world.configFile, '--verbose'], message: /Unknown option '--verbose'/ },
  ];
  for (const c of cases) {
    test(`exit 2 on ${c.title}`, async () => {
      const r = await run(...c.args());
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, c.message);
    });
  }

  test('--since in the future: no calls, every credential scope reported unneeded', async () => {
    const r = await run('scopes', '--config', world.configFile, '--json', '--since', '2999-01-01');
    assert.equal(r.code, 0, r.err);
    const empty = JSON.parse(r.out) as ScopeReport;
    assert.deepEqual(empty.calls, { allowed: 0, denied: 0, expired: 0 });
    assert.deepEqual(empty.upstreams.find((u) => u.upstream === 'crm')!.unneededCredentialScopes, ['crm.admin', 'crm.read', 'crm.write']);
    assert.deepEqual(empty.agents, []);
  });
});
