/**
 * A small staging day for the least-privilege reports: the staging world of scripts/staging.ts
 * (the demo's own config with its per-upstream baseline and credential scopes, the example
 * policies, the example CRM and HR servers, a SQLite audit log) in a temporary folder, with the
 * header identity test double, a clock at 11:00 Berlin, and three agents making the calls in
 * STAGING. The config file is on disk, so `toolgate report … --config` reads the same policy set
 * and audit database the gateway wrote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStagingWorld as startWorld, type StagingWorld as World } from '../../scripts/staging-world.js';
import { Session } from './policy-world.js';
import { as, headerIdentityForTests } from './test-identity.js';

export const PRINCIPALS = {
  alice: as('sales-bot', { user: 'alice', tenant: 'acme', scopes: 'crm.read crm.write' }),
  carol: as('sales-bot', { user: 'carol', tenant: 'globex', scopes: 'crm.read crm.write crm.admin' }),
  bob: as('hr-assistant', { user: 'bob', tenant: 'acme', scopes: 'hr.employee.read' }),
  reportBot: as('report-bot', { scopes: 'crm.read' }),
};

const ada = { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@acme.example' };

/** Who calls what, how often, and the verdict the example policies give it at 11:00 Berlin. */
export const STAGING: Array<{ who: keyof typeof PRINCIPALS; tool: string; args: Record<string, unknown>; times: number; verdict: 'allow' | 'deny' }> = [
  { who: 'alice', tool: 'crm__search_contacts', args: { tenant: 'acme', query: 'a' }, times: 3, verdict: 'allow' },
  { who: 'alice', tool: 'crm__get_contact', args: { tenant: 'acme', contact_id: 'ct_1004' }, times: 1, verdict: 'allow' },
  { who: 'alice', tool: 'crm__write_contact', args: { tenant: 'acme', ...ada }, times: 2, verdict: 'allow' },
  { who: 'alice', tool: 'crm__write_contact', args: { tenant: 'globex', ...ada }, times: 1, verdict: 'deny' }, // crm-writes-own-tenant
  { who: 'alice', tool: 'crm__delete_contact', args: { tenant: 'acme', contact_id: 'ct_1004' }, times: 1, verdict: 'deny' }, // deletes-only-cleanup-bot
  { who: 'carol', tool: 'crm__search_deals', args: { tenant: 'globex' }, times: 1, verdict: 'allow' },
  { who: 'bob', tool: 'hr__read_employee', args: { tenant: 'acme', employee_id: 'E1002' }, times: 2, verdict: 'allow' },
  { who: 'bob', tool: 'hr__list_employees', args: { tenant: 'acme' }, times: 1, verdict: 'allow' },
  { who: 'bob', tool: 'hr__update_salary', args: { tenant: 'acme', employee_id: 'E1002' }, times: 1, verdict: 'deny' }, // no hr.employee.write
  { who: 'reportBot', tool: 'crm__search_deals', args: { tenant: 'acme' }, times: 2, verdict: 'allow' },
  { who: 'reportBot', tool: 'crm__get_pipeline_summary', args: { tenant: 'acme' }, times: 1, verdict: 'allow' },
];

export interface StagingWorld extends World {
  dir: string;
  session(who: keyof typeof PRINCIPALS): Session;
}

/** `extraPolicyYaml` lines are added under `policy:` (the last section of the demo config). */
export async function startStagingWorld(extraPolicyYaml: string[] = []): Promise<StagingWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-staging-'));
  let world: World;
  try {
    world = await startWorld({ home: dir, clock: new Date('2026-11-24T10:00:00Z'), policyYaml: extraPolicyYaml, identity: headerIdentityForTests }); // Tuesday 11:00 in Berlin
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const close = world.close.bind(world);
  return Object.assign(world, {
    dir,
    session: (who: keyof typeof PRINCIPALS) => new Session(world.gateway.url, PRINCIPALS[who]),
    async close() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Makes the STAGING calls; throws when a verdict is not the one expected (the test world is then wrong, not the report). */
export async function driveStaging(world: StagingWorld): Promise<void> {
  const sessions = new Map<string, Session>();
  for (const step of STAGING) {
    let s = sessions.get(step.who);
    if (!s) {
      s = world.session(step.who);
      sessions.set(step.who, s);
    }
    for (let i = 0; i < step.times; i++) {
      const r = await s.call(step.tool, step.args);
      const allowed = r.status === 200 && r.body?.result !== undefined && r.body.result.isError !== true;
      if (allowed !== (step.verdict === 'allow')) throw new Error(`staging: ${step.who} ${step.tool} expected ${step.verdict}, got ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
}
