/**
 * Hot reload through the running gateway: a bad policy file is refused with file, line and reason
 * while the previous set keeps being enforced; a good edit takes effect without dropping the
 * session; SIGHUP reloads; a bad file at start-up stops start-up with the same clear error.
 */

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StartupError } from '../src/gateway.js';
import { type PolicyWorld, Session, startPolicyWorld } from './support/policy-world.js';
import { as } from './support/test-identity.js';
import { waitFor } from './support/wait-for.js';

const alice = as('sales-bot', { user: 'alice', tenant: 'acme', scopes: 'crm.read crm.write' });
const contact = { tenant: 'acme', first_name: 'Ada', last_name: 'Lovelace', email: 'ada@acme.example' };

describe('hot reload', () => {
  let world: PolicyWorld;
  let crmFile: string;
  let original: string;
  before(async () => {
    world = await startPolicyWorld({ hr: false });
    crmFile = join(world.policyDir, 'crm.cedar');
    original = readFileSync(crmFile, 'utf8');
  });
  after(async () => {
    await world?.close();
  });

  /** Writes crm.cedar and waits until the gateway has reacted (a new hash, or a refusal). */
  async function edit(text: string): Promise<void> {
    const stage = world.gateway.policy!;
    const before = stage.status();
    writeFileSync(crmFile, text);
    await waitFor(
      () => {
        const now = stage.status();
        return now.policySetHash !== before.policySetHash || (now.lastReloadError !== undefined && now.lastReloadError !== before.lastReloadError);
      },
      { what: 'a reload attempt' },
    );
  }

  async function writeAt(session: Session, at: string): Promise<{ allowed: boolean; policies: string[] }> {
    world.clock.set(at);
    const r = await session.call('crm__write_contact', contact);
    const d = world.audit.events.filter((e) => e.kind === 'decision' && e.invocation?.exposedName === 'crm__write_contact').at(-1)!;
    return { allowed: r.body.result !== undefined && r.body.result.isError !== true, policies: d.decision!.policies };
  }

  test('a syntax error (missing "}" on line 11) is refused with file, line and reason; the previous policy stays in force', async () => {
    const session = new Session(world.gateway.url, alice);
    const hash = world.gateway.policy!.status().policySetHash;
    await edit(
      original.replace(
        'unless { context.time.minuteOfDay >= 540 && context.time.minuteOfDay < 1080 };',
        'unless { context.time.minuteOfDay >= 540 && context.time.minuteOfDay < 1080 ;',
      ),
    );
    const status = world.gateway.policy!.status();
    assert.equal(status.policySetHash, hash, 'the hash in force did not change');
    assert.ok(status.lastReloadError?.startsWith(`${crmFile}:11:`), status.lastReloadError);
    assert.match(status.lastReloadError!, /unexpected token/);
    const callsBefore = world.crm.receivedToolCalls().length;
    assert.deepEqual(await writeAt(session, '2026-11-24T18:30:00Z'), { allowed: false, policies: ['crm-writes-business-hours'] });
    assert.equal(world.crm.receivedToolCalls().length, callsBefore, 'still denied, CRM not called');
    assert.equal((await writeAt(session, '2026-11-24T10:00:00Z')).allowed, true);
  });

  test('a policy reading context.time.hours (no such attribute) fails strict validation with its line; previous set stays', async () => {
    const hash = world.gateway.policy!.status().policySetHash;
    await edit(original.replace('context.time.minuteOfDay >= 540', 'context.time.hours >= 9'));
    const status = world.gateway.policy!.status();
    assert.equal(status.policySetHash, hash);
    assert.ok(status.lastReloadError?.startsWith(`${crmFile}:11:`), status.lastReloadError);
    assert.match(status.lastReloadError!, /hours/);
  });

  test('a good edit (business hours from 08:00) takes effect in the same session', async () => {
    const session = new Session(world.gateway.url, alice);
    assert.deepEqual(await writeAt(session, '2026-11-24T07:30:00Z'), { allowed: false, policies: ['crm-writes-business-hours'] }); // 08:30 Berlin
    await edit(original.replace('context.time.minuteOfDay >= 540', 'context.time.minuteOfDay >= 480'));
    assert.equal(world.gateway.policy!.status().lastReloadError, undefined);
    assert.equal((await writeAt(session, '2026-11-24T07:30:00Z')).allowed, true);
  });

  test('a file that is not a policy (notes.txt, an editor backup crm.cedar~) written in the policy folder does not reload the set', async () => {
    const loadedAt = world.gateway.policy!.status().loadedAt;
    world.clock.set('2026-11-24T11:11:00Z');
    writeFileSync(join(world.policyDir, 'notes.txt'), 'reviewed by carol\n');
    writeFileSync(join(world.policyDir, 'crm.cedar~'), original);
    await new Promise((r) => setTimeout(r, 400)); // a sleep: nothing may reload within four debounce windows
    assert.equal(world.gateway.policy!.status().loadedAt, loadedAt, 'loadedAt would move to 11:11 had a reload run');
  });

  test('SIGHUP reloads (the load time moves to the injected clock)', async () => {
    world.clock.set('2026-11-24T12:34:00Z');
    process.kill(process.pid, 'SIGHUP');
    await waitFor(() => world.gateway.policy!.status().loadedAt === '2026-11-24T12:34:00.000Z', { what: 'SIGHUP reload' });
  });
});

test('start-up with a bad policy file: StartupError naming file:line and the reason', async () => {
  const { mkdtempSync, cpSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { EXAMPLE_POLICIES } = await import('./support/policy-world.js');
  const { gatewayWith } = await import('./support/gateway.js');
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-badpolicy-'));
  cpSync(EXAMPLE_POLICIES, dir, { recursive: true, filter: (src) => !src.endsWith('hr.cedar') });
  writeFileSync(join(dir, 'deletes.cedar'), 'permit(principal, action in Action::"kind:erase", resource);\n');
  const { startCrmServer } = await import('../examples/crm/server.js');
  const crm = await startCrmServer({ port: 0 });
  try {
    await assert.rejects(gatewayWith(`upstreams:\n  - id: crm\n    url: ${crm.url}\npolicy:\n  files: ${JSON.stringify(dir)}\n`), (err: unknown) => {
      assert.ok(err instanceof StartupError);
      assert.equal(err.code, 'ERR_POLICY_INVALID');
      assert.ok(err.message.includes(`${join(dir, 'deletes.cedar')}:1:`), err.message);
      assert.match(err.message, /unrecognized action `Action::"kind:erase"`/);
      return true;
    });
  } finally {
    await crm.close();
  }
});
