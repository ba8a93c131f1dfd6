/**
 * The Cedar engine underneath the stage: the measured gotchas kept as regression tests (action
 * groups need the schema; @id annotations need the id → text record), slicing per action gives
 * the same decisions as the whole set, local time in the configured zone across DST, and shadow
 * mode through the running gateway.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import { ZonedTime } from '../src/policy/clock.js';
import { type CedarRequest, CompiledPolicySet } from '../src/policy/compiled.js';
import { usageOf } from '../src/policy/context-reads.js';
import { buildSchema, type SchemaTool } from '../src/policy/schema.js';
import { parseFile } from '../src/policy/source.js';
import { adminStatus } from './support/admin-status.js';
import { type PolicyWorld, Session, startPolicyWorld } from './support/policy-world.js';
import { as } from './support/test-identity.js';

const tools: SchemaTool[] = [
  { upstream: 'crm', name: 'get_contact', kind: 'read', inputSchema: { type: 'object', properties: { tenant: { type: 'string' } }, required: ['tenant'] } },
  { upstream: 'crm', name: 'delete_contact', kind: 'delete', inputSchema: { type: 'object', properties: { tenant: { type: 'string' }, contact_id: { type: 'string' } } } },
  {
    upstream: 'crm',
    name: 'write_contact',
    kind: 'write',
    inputSchema: {
      type: 'object',
      properties: { tenant: { type: 'string' }, n: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } }, score: { type: 'number' } },
    },
  },
];
const TEXT = `@id("readers") permit (principal, action in Action::"kind:read", resource);
@id("no-deletes") forbid (principal, action in Action::"kind:delete", resource) unless { principal == Agent::"cleanup-bot" };
@id("cleanup") permit (principal == Agent::"cleanup-bot", action in Action::"kind:delete", resource);
@id("own-tenant-writes") permit (principal, action == Action::"crm/write_contact", resource) when { context.arguments has tenant && context.arguments.tenant == context.tenant };
`;

function request(agent: string, action: string, args: Record<string, unknown> = {}): CedarRequest {
  return {
    principal: { type: 'Agent', id: agent },
    action,
    resource: { type: 'Tool', id: action },
    context: {
      user: { present: true, id: 'alice', tenant: 'acme' },
      scopes: [],
      tenant: 'acme',
      time: { hour: 11, minute: 0, minuteOfDay: 660, weekday: 'Tue' },
      session: { present: true, id: 's' },
      transport: { protocolVersion: '2025-11-25' },
      arguments: args as never,
    },
    entities: [
      { uid: { type: 'Agent', id: agent }, attrs: { tenant: 'acme', groups: [] }, parents: [] },
      { uid: { type: 'Tool', id: action }, attrs: { upstream: 'crm', name: action.split('/')[1]!, kind: 'read' }, parents: [{ type: 'Server', id: 'crm' }] },
    ],
  };
}

describe('Cedar gotchas (regression)', () => {
  const set = new CompiledPolicySet(parseFile('engine.cedar', TEXT), tools, 'test');

  test('an action-group rule (kind:read) matches only with the schema: without it Cedar silently denies', () => {
    const r = request('report-bot', 'crm/get_contact');
    const bare = isAuthorized({
      principal: r.principal,
      action: { type: 'Action', id: r.action },
      resource: r.resource,
      context: r.context,
      entities: r.entities,
      policies: { staticPolicies: { readers: TEXT.split('\n')[0]! } },
    });
    assert.equal(bare.type, 'success');
    assert.equal(bare.type === 'success' && bare.response.decision, 'deny', 'no schema: the group rule does not match');
    assert.deepEqual(set.evaluate(r), { verdict: 'allow', policies: ['readers'], errors: [] });
  });

  test('deciding policies come back under their @id, not policy0…', () => {
    assert.deepEqual(set.evaluate(request('sales-bot', 'crm/delete_contact')).policies, ['no-deletes']);
    assert.deepEqual(set.evaluate(request('cleanup-bot', 'crm/delete_contact')).policies, ['cleanup']);
  });

  test('per-action slices decide exactly as the whole set does (tried: each agent × action × tenant argument)', () => {
    const schema = buildSchema(tools);
    for (const agent of ['sales-bot', 'cleanup-bot', 'report-bot']) {
      for (const action of ['crm/get_contact', 'crm/delete_contact', 'crm/write_contact']) {
        for (const args of [{}, { tenant: 'acme' }, { tenant: 'globex' }]) {
          const r = request(agent, action, action.endsWith('get_contact') ? { tenant: 'acme' } : args);
          const whole = isAuthorized({
            principal: r.principal,
            action: { type: 'Action', id: r.action },
            resource: r.resource,
            context: r.context,
            entities: r.entities,
            schema: schema as never,
            policies: { staticPolicies: Object.fromEntries(parseFile('engine.cedar', TEXT).map((p) => [p.id, p.text])) },
          });
          assert.equal(whole.type, 'success');
          if (whole.type !== 'success') continue;
          const sliced = set.evaluate(r);
          assert.equal(sliced.verdict, whole.response.decision, `${agent} ${action} ${JSON.stringify(args)}`);
          assert.deepEqual(sliced.policies.sort(), whole.response.diagnostics.reason.sort());
        }
      }
    }
  });

  test('arguments are typed from inputSchema: integer → Long, string array → Set, fractional number left out', () => {
    const schema = buildSchema(tools) as { '': { actions: Record<string, { appliesTo: { context: { attributes: { arguments: { attributes: Record<string, unknown> } } } } }> } };
    const attrs = schema[''].actions['crm/write_contact'].appliesTo.context.attributes.arguments.attributes;
    assert.deepEqual(attrs.n, { type: 'Long', required: false });
    assert.deepEqual(attrs.tags, { type: 'Set', element: { type: 'String' }, required: false });
    assert.equal(attrs.score, undefined);
  });
});

describe('what policies read (only that is passed to Cedar)', () => {
  const text =
    'permit (principal == Agent::"a", action, resource in Server::"crm") when { context.time.minuteOfDay >= 540 && context.scopes.contains("x") && context.arguments has tenant && context.arguments["tenant"] == principal.tenant };';
  test('context chains, has-tests and ["…"] are collected; `.contains(` is a method, not an attribute', () => {
    const u = usageOf([text], 'context');
    assert.ok(u !== 'all');
    assert.deepEqual([...u.keys()].sort(), ['arguments', 'scopes', 'time']);
    assert.equal(u.get('scopes'), 'all');
    assert.deepEqual([...(u.get('time') as Map<string, unknown>).keys()], ['minuteOfDay']);
    assert.deepEqual([...(u.get('arguments') as Map<string, unknown>).keys()], ['tenant']);
  });
  test('a bare `context` means all of it; bare principal/resource (== , in) need no attributes', () => {
    assert.equal(usageOf(['permit(principal, action, resource) when { context == {} };'], 'context'), 'all');
    assert.deepEqual([...(usageOf([text], 'principal') as Map<string, unknown>).keys()], ['tenant']);
    assert.equal((usageOf([text], 'resource') as Map<string, unknown>).size, 0);
  });
});

describe('local time in Europe/Berlin', () => {
  const berlin = new ZonedTime('Europe/Berlin');
  test('winter (UTC+1) and summer (UTC+2), weekday and minute of day', () => {
    assert.deepEqual(berlin.at(new Date('2026-11-24T08:00:00Z')), { hour: 9, minute: 0, minuteOfDay: 540, weekday: 'Tue' });
    assert.deepEqual(berlin.at(new Date('2026-07-14T16:59:00Z')), { hour: 18, minute: 59, minuteOfDay: 1139, weekday: 'Tue' });
    assert.deepEqual(berlin.at(new Date('2026-03-29T01:30:00Z')), { hour: 3, minute: 30, minuteOfDay: 210, weekday: 'Sun' }); // just after the spring change
    assert.equal(berlin.at(new Date('2026-11-24T23:30:00Z')).weekday, 'Wed');
  });
});

describe('shadow mode', () => {
  let world: PolicyWorld;
  before(async () => {
    // The candidate set keeps CRM writes open until 20:00 instead of 18:00.
    world = await startPolicyWorld({ hr: false, shadowCrm: (t) => t.replace('context.time.minuteOfDay < 1080', 'context.time.minuteOfDay < 1200') });
  });
  after(async () => {
    await world?.close();
  });

  test('write at 19:30: enforced deny (CRM not called), shadow allow, both in the audited decision, disagreement counted in /admin/status', async () => {
    const alice = as('sales-bot', { user: 'alice', tenant: 'acme', scopes: 'crm.write' });
    const s = new Session(world.gateway.url, alice);
    world.clock.set('2026-11-24T10:00:00Z');
    await s.call('crm__write_contact', { tenant: 'acme', first_name: 'A', last_name: 'B', email: 'a@acme.example' });
    const agreed = world.audit.events.filter((e) => e.kind === 'decision').at(-1)!.decision!;
    assert.equal(agreed.verdict, 'allow');
    assert.equal(agreed.shadow?.verdict, 'allow');
    world.clock.set('2026-11-24T18:30:00Z');
    const calls = world.crm.receivedToolCalls().length;
    const r = await s.call('crm__write_contact', { tenant: 'acme', first_name: 'A', last_name: 'B', email: 'a@acme.example' });
    assert.equal(r.body.error?.message, 'Tool crm__write_contact not found');
    assert.equal(world.crm.receivedToolCalls().length, calls);
    const d = world.audit.events.filter((e) => e.kind === 'decision').at(-1)!.decision!;
    assert.equal(d.verdict, 'deny');
    assert.deepEqual(d.policies, ['crm-writes-business-hours']);
    assert.equal(d.shadow?.verdict, 'allow');
    assert.deepEqual(d.shadow?.policies, ['sales-bot-crm']);
    assert.notEqual(d.shadow?.policySetHash, d.policySetHash);
    const ready = await adminStatus<{ policy: { shadowDisagreements: number; policySetHash: string } }>(world.gateway.url);
    assert.equal(ready.policy.shadowDisagreements, 1);
    assert.equal(ready.policy.policySetHash, d.policySetHash);
  });
});
