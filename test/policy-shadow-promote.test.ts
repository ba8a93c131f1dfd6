/**
 * The safe path to enforcement on a real gateway: a suggestion from observed calls runs as
 * `policy.shadow` beside the enforced set; a call outside it shows as "would break"; promote
 * refuses while that is in its range and promotes over a clean range; the running gateway's
 * watcher reloads the promoted files and denies the unused tool without calling the CRM.
 */

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type StagingWorld, startStagingWorld } from '../scripts/staging-world.js';
import { withAuditStore } from '../src/cli/audit-store.js';
import { observeCalls } from '../src/least-privilege/observed.js';
import { policyCommand as run } from './support/policy-command.js';
import { waitFor } from './support/wait-for.js';

const POLICY_TIME = '2026-11-24T10:00:00.000Z'; // Tuesday 11:00 in Berlin

const snapshot = (dir: string): string =>
  readdirSync(dir)
    .sort()
    .map((f) => `${f}\n${readFileSync(join(dir, f), 'utf8')}`)
    .join('\n');

describe('toolgate policy shadow and promote', () => {
  let world: StagingWorld;
  let home: string;
  let alice: Client;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'toolgate-promote-'));
    world = await startStagingWorld({ home, clock: new Date(POLICY_TIME) });
    alice = await world.connect('sales-bot', { user: 'alice', scopes: 'crm.read crm.write' });
    for (const q of ['dana', 'marcus', 'priya']) await alice.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: q } });
    await alice.callTool({ name: 'crm__get_contact', arguments: { tenant: 'acme', contact_id: 'ct_1001' } });
  });
  after(async () => {
    await world?.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('bad input: no policy.shadow configured — shadow exits 2, promote exits 2, enforced files untouched', async () => {
    const before = snapshot(world.policyDir);
    const shadow = await run('shadow', '--config', world.configFile);
    assert.equal(shadow.code, 2);
    assert.match(shadow.err, /has no policy\.shadow and no decision in the range carries a shadow verdict/);
    const promote = await run('promote', '--config', world.configFile);
    assert.equal(promote.code, 2);
    assert.match(promote.err, /has no policy\.shadow: there is no candidate set to promote/);
    assert.equal(snapshot(world.policyDir), before);
  });

  test('suggestion as shadow: a call outside it (sales-bot crm__get_company) shows as would break; agreeing calls do not', async () => {
    const s = await run('suggest', '--config', world.configFile, '--out', join(home, 'suggested'), '--at', POLICY_TIME);
    assert.equal(s.code, 0, s.err);
    await world.restart({ shadow: 'suggested' });
    alice = await world.connect('sales-bot', { user: 'alice', scopes: 'crm.read crm.write' });
    await alice.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'lena' } });
    const company = await alice.callTool({ name: 'crm__get_company', arguments: { tenant: 'acme', company_id: 'co_1001' } });
    assert.notEqual(company.isError, true, 'the enforced set still decides: allowed');
    const r = await run('shadow', '--config', world.configFile, '--json');
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as {
      evaluated: number;
      agreed: number;
      groups: Array<{ direction: string; agent: string; tool: string; count: number; shadowPolicySetHash: string }>;
    };
    assert.equal(report.evaluated, 2);
    assert.equal(report.agreed, 1);
    assert.deepEqual(
      report.groups.map((g) => [g.direction, g.agent, g.tool, g.count]),
      [['would-break', 'sales-bot', 'crm__get_company', 1]],
    );
    assert.equal(report.groups[0]!.shadowPolicySetHash, world.gateway.policy!.status().shadowPolicySetHash);
    const text = await run('shadow', '--config', world.configFile);
    assert.match(text.out, /enforced allowed, shadow would deny \(would break\): 1 calls\n.*\n {2}sales-bot +crm__get_company +1 /);
  });

  test('promote refuses (exit 1) naming the call it would break; the enforced files stay', async () => {
    const before = snapshot(world.policyDir);
    const r = await run('promote', '--config', world.configFile);
    assert.equal(r.code, 1);
    assert.match(r.err, /the shadow set would have denied 1 calls the enforced set allowed:\n {2}sales-bot → crm__get_company: 1 call/);
    assert.equal(snapshot(world.policyDir), before);
    assert.deepEqual(
      readdirSync(home).filter((f) => f.includes('.backup-')),
      [],
    );
  });

  test('bad input: promote over a range with no shadow decisions (--since tomorrow) exits 1', async () => {
    const r = await run('promote', '--config', world.configFile, '--since', new Date(Date.now() + 86_400_000).toISOString());
    assert.equal(r.code, 1);
    assert.match(r.err, /no decision in the range was evaluated by the shadow set sha256:/);
  });

  test('a clean range promotes: files replaced, backup beside them, the watcher reloads and the unused tool is denied without reaching the CRM', async () => {
    const since = new Date().toISOString();
    await alice.callTool({ name: 'crm__get_contact', arguments: { tenant: 'acme', contact_id: 'ct_1002' } });
    const oldCrm = readFileSync(join(world.policyDir, 'crm.cedar'), 'utf8');
    const shadowHash = world.gateway.policy!.status().shadowPolicySetHash!;
    assert.notEqual(world.gateway.policy!.status().policySetHash, shadowHash, 'before: the example set is enforced');
    const r = await run('promote', '--config', world.configFile, '--since', since);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /promoted: .*policies now holds the shadow set/);
    assert.match(r.out, /roll back: rm .*policies\/\*\.cedar && cp .*policies\.backup-\d{8}T\d{6}Z\/\*\.cedar/);
    assert.deepEqual(
      readdirSync(world.policyDir).sort(),
      readdirSync(join(home, 'suggested'))
        .filter((f) => f.endsWith('.cedar'))
        .sort(),
    );
    const backups = readdirSync(home).filter((f) => /^policies\.backup-\d{8}T\d{6}Z$/.test(f));
    assert.equal(backups.length, 1);
    assert.equal(readFileSync(join(home, backups[0]!, 'crm.cedar'), 'utf8'), oldCrm);

    // The running gateway picks the files up (watch.ts, debounced).
    await waitFor(() => world.gateway.policy!.status().policySetHash === shadowHash, { what: 'the gateway to reload the promoted set', timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(world.gateway.policy!.status().policySetHash, shadowHash, 'the gateway reloaded the promoted set');

    const crmCallsBefore = world.crm.receivedToolCalls().length;
    await assert.rejects(alice.callTool({ name: 'crm__get_company', arguments: { tenant: 'acme', company_id: 'co_1001' } }));
    assert.equal(world.crm.receivedToolCalls().length, crmCallsBefore, 'the CRM was not called');
    const calls = (await withAuditStore({ config: world.configFile }, (store) => observeCalls(store))).calls;
    const last = calls.at(-1)!;
    assert.deepEqual([last.tool, last.verdict, last.policySetHash], ['crm__get_company', 'deny', shadowHash]);
    // What the agent did use still works under the promoted set.
    const ok = await alice.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'dana' } });
    assert.notEqual(ok.isError, true);
    assert.equal(world.crm.receivedToolCalls().at(-1)?.name, 'search_contacts');
    assert.ok(existsSync(join(home, 'suggested', 'tests.yaml')));
  });

  test("--force promotes despite a break: a candidate without sales-bot's search_contacts permit, then search_contacts is denied", async () => {
    const narrower = join(home, 'narrower');
    cpSync(world.policyDir, narrower, { recursive: true });
    const file = join(narrower, 'agent-sales-bot.cedar');
    const text = readFileSync(file, 'utf8');
    const cut = text.replace(/\n\/\/ crm__search_contacts[\s\S]*?\};\n/, '\n');
    assert.notEqual(cut, text, 'the search_contacts permit was removed from the candidate');
    writeFileSync(file, cut);
    await world.restart({ shadow: 'narrower' });
    alice = await world.connect('sales-bot', { user: 'alice', scopes: 'crm.read crm.write' });
    const found = await alice.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'marcus' } });
    assert.notEqual(found.isError, true);
    const refused = await run('promote', '--config', world.configFile);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /sales-bot → crm__search_contacts: 1 call/);
    const forced = await run('promote', '--config', world.configFile, '--force');
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.out, /promoted \(forced\)/);
    assert.equal(readdirSync(home).filter((f) => f.startsWith('policies.backup-')).length, 2);
    const hash = world.gateway.policy!.status().shadowPolicySetHash!;
    await waitFor(() => world.gateway.policy!.status().policySetHash === hash, { what: 'the gateway to reload the forced set', timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(world.gateway.policy!.status().policySetHash, hash);
    const crmCallsBefore = world.crm.receivedToolCalls().length;
    await assert.rejects(alice.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: 'marcus' } }));
    assert.equal(world.crm.receivedToolCalls().length, crmCallsBefore, 'the CRM was not called');
  });
});
