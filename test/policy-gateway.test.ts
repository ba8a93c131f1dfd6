/**
 * The demo's four policies (examples/policies) enforced by a running gateway in front of the real
 * example CRM (HTTP) and HR (stdio) servers. Each case checks the verdict, the deciding policy
 * (from the audited Decision) and whether the upstream was called. Identity comes from the
 * header test double; time from an injected clock.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '../src/pipeline/stages.js';
import { type PolicyWorld, Session, startPolicyWorld } from './support/policy-world.js';
import type { HttpRpcAnswer, RpcAnswer } from './support/rpc-answer.js';
import { as } from './support/test-identity.js';

let world: PolicyWorld;
before(async () => {
  world = await startPolicyWorld();
});
after(async () => {
  await world?.close();
});

const alice = as('sales-bot', { user: 'alice', tenant: 'acme', scopes: 'crm.read crm.write' });
const contact = { tenant: 'acme', first_name: 'Ada', last_name: 'Lovelace', email: 'ada@acme.example' };
/** 11:00 and 19:30 in Berlin on a winter Tuesday (UTC+1). */
const BUSINESS = '2026-11-24T10:00:00Z';
const EVENING = '2026-11-24T18:30:00Z';

function lastDecision(exposedName: string): AuditEvent {
  const d = world.audit.events.filter((e) => e.kind === 'decision' && e.invocation?.exposedName === exposedName).at(-1);
  assert.ok(d, `a decision was audited for ${exposedName}`);
  return d;
}

/** Runs `fn` and says how many tools/call requests reached the CRM meanwhile. */
async function crmCallsDuring(fn: () => Promise<void>): Promise<number> {
  const before = world.crm.receivedToolCalls().length;
  await fn();
  return world.crm.receivedToolCalls().length - before;
}

function assertLooksUnknown(body: RpcAnswer, name: string): void {
  assert.deepEqual(body.error, { code: -32602, message: `Tool ${name} not found` }, JSON.stringify(body));
}

describe('CRM write_contact: business hours, human user, own tenant (policy 1)', () => {
  test('allowed at 11:00 Berlin for sales-bot with user alice writing to her tenant acme', async () => {
    world.clock.set(BUSINESS);
    let r!: HttpRpcAnswer;
    const calls = await crmCallsDuring(async () => {
      r = await new Session(world.gateway.url, alice).call('crm__write_contact', contact);
    });
    assert.equal(r.body.result?.isError, undefined, JSON.stringify(r.body));
    assert.equal(calls, 1, 'the CRM was called');
    const d = lastDecision('crm__write_contact').decision!;
    assert.equal(d.verdict, 'allow');
    assert.deepEqual(d.policies, ['sales-bot-crm']);
    assert.match(d.policySetHash ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  const broken: Array<{ title: string; at: string; headers: Record<string, string>; args: Record<string, unknown>; policy: string }> = [
    { title: 'at 19:30 Berlin (outside 09:00-18:00)', at: EVENING, headers: alice, args: contact, policy: 'crm-writes-business-hours' },
    { title: 'at 08:59 Berlin (one minute early)', at: '2026-11-24T07:59:00Z', headers: alice, args: contact, policy: 'crm-writes-business-hours' },
    {
      title: 'without a user session (agent alone)',
      at: BUSINESS,
      headers: as('sales-bot', { tenant: 'acme', scopes: 'crm.read crm.write' }),
      args: contact,
      policy: 'crm-writes-need-user',
    },
    { title: 'for tenant globex while the caller is in acme', at: BUSINESS, headers: alice, args: { ...contact, tenant: 'globex' }, policy: 'crm-writes-own-tenant' },
  ];
  for (const c of broken) {
    test(`denied ${c.title}: names ${c.policy}, CRM not called, answer is "not found"`, async () => {
      world.clock.set(c.at);
      let r!: HttpRpcAnswer;
      const calls = await crmCallsDuring(async () => {
        r = await new Session(world.gateway.url, c.headers).call('crm__write_contact', c.args);
      });
      assertLooksUnknown(r.body, 'crm__write_contact');
      assert.equal(calls, 0, 'the CRM was not called');
      const d = lastDecision('crm__write_contact').decision!;
      assert.equal(d.verdict, 'deny');
      assert.deepEqual(d.policies, [c.policy]);
    });
  }

  test('summer time: 17:30 Berlin is 15:30 UTC in July and still allowed; 18:00 Berlin is not', async () => {
    world.clock.set('2026-07-14T15:30:00Z');
    const ok = await new Session(world.gateway.url, alice).call('crm__write_contact', contact);
    assert.equal(ok.body.result?.isError, undefined, JSON.stringify(ok.body));
    world.clock.set('2026-07-14T16:00:00Z');
    const late = await new Session(world.gateway.url, alice).call('crm__write_contact', contact);
    assertLooksUnknown(late.body, 'crm__write_contact');
    assert.deepEqual(lastDecision('crm__write_contact').decision!.policies, ['crm-writes-business-hours']);
  });
});

describe('HR read_employee needs scope hr.employee.read (policy 2)', () => {
  test('allowed for hr-assistant with hr.employee.read; the HR server answers', async () => {
    world.clock.set(BUSINESS);
    const r = await new Session(world.gateway.url, as('hr-assistant', { user: 'bob', tenant: 'acme', scopes: 'hr.employee.read' })).call('hr__read_employee', {
      tenant: 'acme',
      employee_id: 'E1002',
    });
    assert.equal(r.body.result?.isError, undefined, JSON.stringify(r.body));
    const d = lastDecision('hr__read_employee');
    assert.equal(d.decision!.verdict, 'allow');
    assert.deepEqual(d.decision!.policies, ['hr-read-with-scope']);
    assert.ok(
      world.audit.events.some((e) => e.kind === 'outcome' && e.requestId === d.requestId),
      'forwarded to HR',
    );
  });

  test('without the scope (only crm.read): 403 insufficient_scope naming hr.employee.read, HR not called', async () => {
    const r = await new Session(world.gateway.url, as('hr-assistant', { user: 'bob', tenant: 'acme', scopes: 'crm.read' })).call('hr__read_employee', {
      tenant: 'acme',
      employee_id: 'E1002',
    });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), /hr\.employee\.read/);
    const d = lastDecision('hr__read_employee');
    assert.equal(d.decision!.verdict, 'deny');
    assert.deepEqual(d.decision!.policies, ['hr-read-needs-scope']);
    assert.ok(!world.audit.events.some((e) => e.kind === 'outcome' && e.requestId === d.requestId), 'never forwarded to HR');
  });

  test('report-bot (reads everywhere) still cannot read HR without the scope', async () => {
    const s = new Session(world.gateway.url, as('report-bot', { tenant: 'acme', scopes: 'crm.read' }));
    assert.ok(!(await s.toolNames()).includes('hr__read_employee'));
  });
});

describe('deletes only for cleanup-bot (policy 3)', () => {
  for (const agent of ['sales-bot', 'report-bot', 'hr-assistant']) {
    test(`${agent} calling crm__delete_contact: denied by deletes-only-cleanup-bot, CRM not called`, async () => {
      world.clock.set(BUSINESS);
      let r!: HttpRpcAnswer;
      const calls = await crmCallsDuring(async () => {
        r = await new Session(world.gateway.url, as(agent, { user: 'alice', tenant: 'acme', scopes: 'crm.read crm.write crm.admin' })).call('crm__delete_contact', {
          tenant: 'acme',
          contact_id: 'ct_1004',
        });
      });
      assertLooksUnknown(r.body, 'crm__delete_contact');
      assert.equal(calls, 0);
      const d = lastDecision('crm__delete_contact').decision!;
      assert.equal(d.verdict, 'deny');
      assert.ok(d.policies.includes('deletes-only-cleanup-bot'), JSON.stringify(d.policies));
    });
  }

  test('cleanup-bot deletes crm contact ct_1004 (no user session needed)', async () => {
    let r!: HttpRpcAnswer;
    const calls = await crmCallsDuring(async () => {
      r = await new Session(world.gateway.url, as('cleanup-bot', { tenant: 'acme' })).call('crm__delete_contact', { tenant: 'acme', contact_id: 'ct_1004' });
    });
    assert.equal(r.body.result?.isError, undefined, JSON.stringify(r.body));
    assert.equal(calls, 1);
    assert.deepEqual(lastDecision('crm__delete_contact').decision!.policies, ['cleanup-bot-deletes']);
  });
});

describe('tools/list shows exactly what may be called; hidden looks like nonexistent', () => {
  test('sales-bot at 11:00 sees every CRM tool but the deletes, no HR tool; at 19:30 only CRM reads', async () => {
    world.clock.set(BUSINESS);
    const day = await new Session(world.gateway.url, alice).toolNames();
    const crm = [...world.gateway.registry.catalog.entries('tools')].filter((e) => e.upstream === 'crm').map((e) => e.exposed);
    assert.deepEqual(day, crm.filter((n) => !n.startsWith('crm__delete_')).sort());
    world.clock.set(EVENING);
    const evening = await new Session(world.gateway.url, alice).toolNames();
    assert.ok(evening.length > 0 && evening.every((n) => /^crm__(search|get|export)_/.test(n)), evening.join(' '));
    assert.ok(!evening.includes('crm__write_contact'));
  });

  test('every tool sales-bot does not see answers like a name that does not exist (tried: each hidden tool and crm__no_such_tool)', async () => {
    world.clock.set(EVENING);
    const s = new Session(world.gateway.url, alice);
    const visible = new Set(await s.toolNames());
    const hidden = [...world.gateway.registry.catalog.entries('tools')].map((e) => e.exposed).filter((n) => !visible.has(n) && n.startsWith('crm__'));
    assert.ok(hidden.length >= 10);
    const calls = await crmCallsDuring(async () => {
      const nonexistent = await s.call('crm__no_such_tool', { tenant: 'acme' });
      for (const name of hidden) {
        const r = await s.call(name, { tenant: 'acme' });
        assert.equal(r.status, nonexistent.status);
        assert.deepEqual({ ...r.body, id: 0 }, { ...nonexistent.body, id: 0, error: { ...nonexistent.body.error, message: `Tool ${name} not found` } });
      }
    });
    assert.equal(calls, 0);
  });

  test('each listed tool is callable: report-bot lists only reads and a listed read is allowed', async () => {
    world.clock.set(BUSINESS);
    const s = new Session(world.gateway.url, as('report-bot', { tenant: 'acme', scopes: 'crm.read' }));
    const names = await s.toolNames();
    assert.ok(names.includes('crm__get_pipeline_summary') && !names.some((n) => /^crm__(create|update|write|delete)_/.test(n)), names.join(' '));
    const r = await s.call('crm__search_contacts', { tenant: 'acme', query: 'a' });
    assert.equal(r.body.result?.isError, undefined, JSON.stringify(r.body));
    assert.deepEqual(lastDecision('crm__search_contacts').decision!.policies, ['report-bot-reads']);
  });
});

describe('argument validation against inputSchema, before policy', () => {
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown argument "is_admin"', { ...contact, is_admin: true }, /\/is_admin is not a declared argument/],
    ['email "not-an-email"', { ...contact, email: 'not-an-email' }, /\/email must match /],
    ['first_name of 5000 characters', { ...contact, first_name: 'x'.repeat(5000) }, /\/first_name must NOT have more than/],
    ['tenant as a number', { ...contact, tenant: 42 }, /\/tenant must be string/],
    ['arguments over 64 KiB', { ...contact, tags: Array.from({ length: 2000 }, (_, i) => `tag-${i}-${'y'.repeat(30)}`) }, /arguments are \d+ bytes; the limit is 65536/],
  ];
  for (const [what, args, message] of bad) {
    test(`write_contact with ${what}: tool error naming the field, CRM not called`, async () => {
      world.clock.set(BUSINESS);
      let r!: HttpRpcAnswer;
      const calls = await crmCallsDuring(async () => {
        r = await new Session(world.gateway.url, alice).call('crm__write_contact', args);
      });
      assert.equal(r.body.result?.isError, true, JSON.stringify(r.body));
      assert.match(r.body.result.content[0].text, message);
      assert.equal(calls, 0);
    });
  }
});
