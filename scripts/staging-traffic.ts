/**
 * A realistic working day of the demo's agents, through the
 * gateway with official MCP SDK clients: sales-bot for alice (acme) and carol (globex),
 * hr-assistant for bob, report-bot per tenant, cleanup-bot. Each agent uses a handful of the
 * tools it is granted; a few calls are denied (another tenant's records, a delete, a write
 * without the scope). Deterministic per seed; the policy clock advances a minute per call from
 * `start`, so a day of ~300 calls stays inside business hours when it starts at 09:00 Berlin.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StagingWorld } from './staging-world.js';

type Args = Record<string, unknown>;
interface Step {
  tool: string;
  args: (r: Random, tenant: string) => Args;
  weight: number;
}
interface Actor {
  agent: string;
  user?: string;
  tenant: string;
  scopes: string;
  calls: number;
  steps: Step[];
  /** Calls the enforced set denies, made once each per session. */
  refused: Array<{ tool: string; args: Args }>;
  /** Day two only: granted tools nobody called on day one. */
  extra: Array<{ tool: string; args: Args }>;
}

export interface DayResult {
  calls: number;
  /** Calls the gateway refused (JSON-RPC error) — policy denials and hidden tools. */
  refused: number;
  /** (agent, tool) of the extra calls to tools unused on day one. */
  extras: Array<{ agent: string; tool: string }>;
}

const CONTACTS: Record<string, string[]> = { acme: ['ct_1001', 'ct_1002', 'ct_1003', 'ct_1004'], globex: ['ct_2001', 'ct_2002', 'ct_2003'] };
const DEALS: Record<string, string[]> = { acme: ['dl_1001', 'dl_1002', 'dl_1003'], globex: ['dl_2001', 'dl_2002'] };
const NAMES = ['dana', 'marcus', 'priya', 'herrera', 'samir', 'lena', 'kowalska', 'north', 'fischer'];
const EMPLOYEES = ['E1001', 'E1002', 'E1003', 'E1004', 'E1005', 'E1006', 'E1007'];

const salesSteps: Step[] = [
  { tool: 'crm__search_contacts', weight: 4, args: (r, t) => ({ tenant: t, query: r.pick(NAMES) }) },
  { tool: 'crm__get_contact', weight: 3, args: (r, t) => ({ tenant: t, contact_id: r.pick(CONTACTS[t]!) }) },
  { tool: 'crm__search_deals', weight: 2, args: (r, t) => ({ tenant: t, ...(r.chance(0.5) ? { stage: r.pick(['proposal', 'negotiation']) } : {}) }) },
  { tool: 'crm__get_deal', weight: 2, args: (r, t) => ({ tenant: t, deal_id: r.pick(DEALS[t]!) }) },
  { tool: 'crm__update_deal_stage', weight: 1, args: (r, t) => ({ tenant: t, deal_id: r.pick(DEALS[t]!), stage: r.pick(['proposal', 'negotiation']) }) },
  { tool: 'crm__add_note', weight: 1, args: (r, t) => ({ tenant: t, record_id: r.pick(CONTACTS[t]!), text: `Call notes ${r.int(1000)}: follow up next week.` }) },
];

function actors(scale: number): Actor[] {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  const other = (t: string) => (t === 'acme' ? 'globex' : 'acme');
  const sales = (user: string, tenant: string): Actor => ({
    agent: 'sales-bot',
    user,
    tenant,
    scopes: 'crm.read crm.write',
    calls: n(80),
    steps: salesSteps,
    refused: [
      { tool: 'crm__write_contact', args: { tenant: other(tenant), first_name: 'Eve', last_name: 'Other', email: 'eve@other.example' } },
      { tool: 'crm__delete_contact', args: { tenant, contact_id: CONTACTS[tenant]![0] } },
    ],
    extra: [
      { tool: 'crm__get_company', args: { tenant, company_id: tenant === 'acme' ? 'co_1001' : 'co_2001' } },
      { tool: 'crm__bulk_email', args: { tenant, contact_ids: CONTACTS[tenant]!.slice(0, 2), subject: 'Hello', body: 'Hi {{first_name}}' } },
    ],
  });
  const report = (tenant: string): Actor => ({
    agent: 'report-bot',
    tenant,
    scopes: 'crm.read',
    calls: n(25),
    steps: [
      { tool: 'crm__get_pipeline_summary', weight: 2, args: (_r, t) => ({ tenant: t }) },
      { tool: 'crm__search_deals', weight: 1, args: (r, t) => ({ tenant: t, stage: r.pick(['proposal', 'negotiation', 'won']) }) },
    ],
    refused: [{ tool: 'crm__update_deal', args: { tenant, deal_id: DEALS[tenant]![0], amount: 1 } }],
    extra: [{ tool: 'crm__search_contacts', args: { tenant, query: 'a' } }],
  });
  return [
    sales('alice', 'acme'),
    sales('carol', 'globex'),
    {
      agent: 'hr-assistant',
      user: 'bob',
      tenant: 'acme',
      scopes: 'hr.employee.read',
      calls: n(45),
      steps: [
        { tool: 'hr__read_employee', weight: 3, args: (r, t) => ({ tenant: t, employee_id: r.pick(EMPLOYEES) }) },
        { tool: 'hr__search_employees', weight: 2, args: (r, t) => ({ tenant: t, query: r.pick(['frank', 'alice', 'erin', 'dave', 'mia']) }) },
        { tool: 'hr__list_employees', weight: 1, args: (r, t) => ({ tenant: t, department: r.pick(['Sales', 'Engineering']) }) },
      ],
      refused: [
        { tool: 'hr__update_salary', args: { tenant: 'acme', employee_id: 'E1004', salary: 99000, currency: 'EUR', effective_date: '2026-12-01', reason: 'annual review' } },
      ],
      extra: [{ tool: 'hr__get_org_chart', args: { tenant: 'acme' } }],
    },
    report('acme'),
    report('globex'),
    {
      agent: 'cleanup-bot',
      tenant: 'acme',
      scopes: 'crm.read crm.write crm.admin',
      calls: n(20),
      steps: [
        { tool: 'crm__delete_task', weight: 2, args: (r, t) => ({ tenant: t, task_id: `tk_${9000 + r.int(500)}` }) },
        { tool: 'crm__delete_note', weight: 1, args: (r, t) => ({ tenant: t, note_id: `nt_${9000 + r.int(500)}` }) },
      ],
      refused: [{ tool: 'crm__search_tasks', args: { tenant: 'acme', status: 'done' } }],
      extra: [{ tool: 'crm__delete_contact', args: { tenant: 'acme', contact_id: 'ct_1004' } }],
    },
  ];
}

/** Drives one day. `extras`: also call the tools unused on day one (day two). */
export async function driveDay(world: StagingWorld, o: { seed: number; start: Date; scale?: number; extras?: boolean }): Promise<DayResult> {
  const r = new Random(o.seed);
  const result: DayResult = { calls: 0, refused: 0, extras: [] };
  let minute = 0;
  const call = async (client: Client, tool: string, args: Args): Promise<void> => {
    world.clock.set(new Date(o.start.getTime() + minute++ * 60_000));
    result.calls++;
    try {
      await client.callTool({ name: tool, arguments: args });
    } catch {
      result.refused++;
    }
  };
  const sessions = await Promise.all(
    actors(o.scale ?? 1).map(async (a) => ({ a, client: await world.connect(a.agent, { ...(a.user ? { user: a.user } : {}), tenant: a.tenant, scopes: a.scopes }) })),
  );
  for (const { a, client } of sessions) {
    const total = a.steps.reduce((n, s) => n + s.weight, 0);
    for (let i = 0; i < a.calls; i++) {
      let w = r.int(total);
      const step = a.steps.find((s) => {
        w -= s.weight;
        return w < 0;
      })!;
      await call(client, step.tool, step.args(r, a.tenant));
      if (i === Math.floor(a.calls / 2)) for (const x of a.refused) await call(client, x.tool, x.args);
    }
    if (o.extras) {
      for (const x of a.extra) {
        await call(client, x.tool, x.args);
        if (!result.extras.some((e) => e.agent === a.agent && e.tool === x.tool)) result.extras.push({ agent: a.agent, tool: x.tool });
      }
    }
  }
  return result;
}

/** mulberry32: small, seeded, good enough to vary traffic reproducibly. */
class Random {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}
