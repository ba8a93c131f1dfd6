/**
 * `toolgate policy suggest` on a real staging log: the demo world (example CRM over HTTP, HR over
 * stdio, the demo's config and policies, SQLite audit, dev-issuer tokens) driven by official MCP
 * SDK clients; then suggest, validate and test through the CLI entry point (runPolicy).
 */

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type StagingWorld, startStagingWorld } from '../scripts/staging-world.js';
import { policyCommand as run } from './support/policy-command.js';

const POLICY_TIME = '2026-11-24T10:00:00.000Z'; // Tuesday 11:00 in Berlin

describe('toolgate policy suggest', () => {
  let world: StagingWorld;
  let home: string;
  let since: string;
  let out: string;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'toolgate-suggest-'));
    world = await startStagingWorld({ home, clock: new Date(POLICY_TIME) });
    since = new Date().toISOString();
    const alice = await world.connect('sales-bot', { user: 'alice', scopes: 'crm.read crm.write' });
    const carol = await world.connect('sales-bot', { user: 'carol', scopes: 'crm.read crm.write' });
    for (const q of ['dana', 'marcus', 'priya', 'lena']) await alice.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'acme', query: q } });
    await carol.callTool({ name: 'crm__search_contacts', arguments: { tenant: 'globex', query: 'samir' } });
    for (const stage of ['proposal', 'negotiation', 'proposal', 'proposal', 'negotiation'])
      await alice.callTool({ name: 'crm__update_deal_stage', arguments: { tenant: 'acme', deal_id: 'dl_1002', stage } });
    // Denied by the enforced set (another tenant's record): not in the suggestion.
    await assert.rejects(alice.callTool({ name: 'crm__write_contact', arguments: { tenant: 'globex', first_name: 'E', last_name: 'V', email: 'e@v.example' } }));
    const bob = await world.connect('hr-assistant', { user: 'bob', scopes: 'hr.employee.read' });
    await bob.callTool({ name: 'hr__read_employee', arguments: { tenant: 'acme', employee_id: 'E1002' } });
    out = join(home, 'suggested');
  });
  after(async () => {
    await world?.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('calls made → per-agent files, carried-over guard rails and tests.yaml written, summary printed', async () => {
    const r = await run('suggest', '--config', world.configFile, '--since', since, '--out', out, '--at', POLICY_TIME);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readdirSync(out).sort(), ['agent-hr-assistant.cedar', 'agent-sales-bot.cedar', 'carried-over.cedar', 'tests.yaml']);
    assert.match(r.out, /sales-bot\s+\d+\s+2\s+\d+%/);
    assert.match(r.out, /sales-bot: write\/delete tools removed: .*crm__write_contact/);
    const carried = readFileSync(join(out, 'carried-over.cedar'), 'utf8');
    for (const id of ['crm-writes-business-hours', 'crm-writes-own-tenant', 'deletes-only-cleanup-bot', 'hr-read-needs-scope', 'prompts-and-resources'])
      assert.match(carried, new RegExp(`@id\\("${id}"\\)`));
    assert.doesNotMatch(carried, /@id\("sales-bot-crm"\)/, 'the broad tool permit is not carried over');
  });

  test('the suggestion compiles: policy validate --policies DIR against the live schema', async () => {
    const r = await run('validate', '--config', world.configFile, '--policies', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ok: \d+ policies valid/);
  });

  test("an observed constant tenant (always the caller's) becomes a constraint; a 2-of-6 enum becomes a contains list", () => {
    const text = readFileSync(join(out, 'agent-sales-bot.cedar'), 'utf8');
    const search = text.slice(text.indexOf('@id("suggest:sales-bot:crm/search_contacts")'));
    assert.match(search.slice(0, 400), /context\.arguments has tenant && context\.arguments\.tenant == context\.tenant/);
    assert.match(text, /\["negotiation", "proposal"\]\.contains\(context\.arguments\.stage\)/);
    // Five different queries over five calls: free text stays unconstrained.
    assert.doesNotMatch(text, /context\.arguments\.query/);
    const hr = readFileSync(join(out, 'agent-hr-assistant.cedar'), 'utf8');
    assert.match(hr, /@scope\("hr\.employee\.read"\)\npermit \(principal == Agent::"hr-assistant", action == Action::"hr\/read_employee", resource\)/);
  });

  test('a tool not called is not permitted: sales-bot crm__get_company allowed by the enforced set, denied by the suggestion', async () => {
    assert.doesNotMatch(readFileSync(join(out, 'agent-sales-bot.cedar'), 'utf8'), /Action::"crm\/get_company"/);
    const q = [
      '--config',
      world.configFile,
      '--agent',
      'sales-bot',
      '--user',
      'alice',
      '--tenant',
      'acme',
      '--tool',
      'crm__get_company',
      '--time',
      POLICY_TIME,
      '--arguments',
      '{"tenant":"acme","company_id":"co_1001"}',
    ];
    assert.match((await run('explain', ...q)).out, /: ALLOW/);
    const suggested = await run('explain', ...q, '--policies', out);
    assert.match(suggested.out, /: DENY/);
    assert.match(suggested.out, /no policy matched: default deny/);
  });

  test('the generated tests.yaml passes against the suggestion (--policies) and fails against the enforced set', async () => {
    const table = join(out, 'tests.yaml');
    const cases = (readFileSync(table, 'utf8').match(/^ {2}- name:/gm) ?? []).length;
    assert.ok(cases > 10, `expected allow and deny cases, got ${cases}`);
    const ok = await run('test', table, '--config', world.configFile, '--policies', out);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, new RegExp(`${cases} of ${cases} passed`));
    assert.match(ok.out, /ok {3}\d+ sales-bot calls crm__update_deal_stage as observed: allow by suggest:sales-bot:crm\/update_deal_stage/);
    const enforced = await run('test', table, '--config', world.configFile);
    assert.equal(enforced.code, 1, 'deny cases are allowed by the enforced set');
    assert.match(enforced.out, /FAIL \d+ sales-bot never called crm__get_company: denied: allow by sales-bot-crm; expected deny/);
  });

  test('bad input: a non-empty --out is refused (exit 2) and left as it was; --force replaces it', async () => {
    const busy = join(home, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'mine.cedar'), '// mine\n');
    const r = await run('suggest', '--config', world.configFile, '--since', since, '--out', busy);
    assert.equal(r.code, 2);
    assert.match(r.err, /busy is not empty; choose another --out or pass --force/);
    assert.deepEqual(readdirSync(busy), ['mine.cedar']);
    const forced = await run('suggest', '--config', world.configFile, '--since', since, '--out', busy, '--force');
    assert.equal(forced.code, 0, forced.err);
    assert.ok(!existsSync(join(busy, 'mine.cedar')));
    assert.ok(existsSync(join(busy, 'agent-sales-bot.cedar')));
  });

  test('bad input: a range with no calls (--since tomorrow) exits 1; --since after --until exits 2; --since garbage exits 2', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const empty = await run('suggest', '--config', world.configFile, '--since', tomorrow, '--out', join(home, 'empty'));
    assert.equal(empty.code, 1);
    assert.match(empty.err, /no allowed tools\/call decision in the range/);
    assert.ok(!existsSync(join(home, 'empty')), 'nothing written');
    const reversed = await run('suggest', '--config', world.configFile, '--since', tomorrow, '--until', since, '--out', join(home, 'empty'));
    assert.equal(reversed.code, 2);
    assert.match(reversed.err, /is not before --until .*: the range is empty/);
    const garbage = await run('suggest', '--config', world.configFile, '--since', 'yesterday-ish');
    assert.equal(garbage.code, 2);
    assert.match(garbage.err, /--since expects a time like 2026-11-24/);
  });
});
