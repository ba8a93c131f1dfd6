/**
 * Seed data: a few realistic records per demo tenant. Ids are stable so the demo, the staging
 * traffic and the tests can name them (see examples/README.md); records created at run time get
 * ids from 5001 upwards, so they never collide with these.
 */
import type { Company, Contact, Deal, Note, Task } from './records.js';

export interface TenantSeed {
  contacts: Contact[];
  companies: Company[];
  deals: Deal[];
  notes: Note[];
  tasks: Task[];
}

const T0 = '2026-03-02T09:15:00.000Z';

function acme(): TenantSeed {
  const tenant = 'acme';
  const base = { tenant, created_at: T0, updated_at: T0 };
  return {
    companies: [
      { ...base, id: 'co_1001', name: 'Northwind Traders', domain: 'northwind-traders.example', industry: 'wholesale', employees: 850, owner: 'alice' },
      { ...base, id: 'co_1002', name: 'Bluepeak Logistics', domain: 'bluepeak-logistics.example', industry: 'logistics', employees: 240, owner: 'alice' },
      { ...base, id: 'co_1003', name: 'Solara Energy', domain: 'solara-energy.example', industry: 'energy', employees: 1200, owner: 'alice' },
    ],
    contacts: [
      {
        ...base,
        id: 'ct_1001',
        first_name: 'Dana',
        last_name: 'Whitfield',
        email: 'dana.whitfield@northwind-traders.example',
        phone: '+49 30 5550 1201',
        title: 'VP Procurement',
        company_id: 'co_1001',
        owner: 'alice',
        tags: ['decision-maker'],
      },
      {
        ...base,
        id: 'ct_1002',
        first_name: 'Marcus',
        last_name: 'Oyelaran',
        email: 'marcus@bluepeak-logistics.example',
        phone: '+44 20 5550 3344',
        title: 'Head of Operations',
        company_id: 'co_1002',
        owner: 'alice',
        tags: ['champion'],
      },
      {
        ...base,
        id: 'ct_1003',
        first_name: 'Priya',
        last_name: 'Raman',
        email: 'priya.raman@northwind-traders.example',
        title: 'IT Director',
        company_id: 'co_1001',
        owner: 'alice',
        tags: ['technical'],
      },
      {
        ...base,
        id: 'ct_1004',
        first_name: 'Tomás',
        last_name: 'Herrera',
        email: 't.herrera@solara-energy.example',
        phone: '+34 91 555 0199',
        title: 'CFO',
        company_id: 'co_1003',
        owner: 'alice',
        tags: ['decision-maker', 'budget-holder'],
      },
    ],
    deals: [
      {
        ...base,
        id: 'dl_1001',
        name: 'Northwind — annual licence renewal',
        company_id: 'co_1001',
        contact_id: 'ct_1001',
        amount: 48000,
        currency: 'EUR',
        stage: 'negotiation',
        close_date: '2026-06-30',
        owner: 'alice',
      },
      {
        ...base,
        id: 'dl_1002',
        name: 'Bluepeak — fleet tracking pilot',
        company_id: 'co_1002',
        contact_id: 'ct_1002',
        amount: 12500,
        currency: 'EUR',
        stage: 'proposal',
        close_date: '2026-05-15',
        owner: 'alice',
      },
      {
        ...base,
        id: 'dl_1003',
        name: 'Solara — enterprise rollout',
        company_id: 'co_1003',
        contact_id: 'ct_1004',
        amount: 180000,
        currency: 'EUR',
        stage: 'qualified',
        close_date: '2026-09-30',
        owner: 'alice',
      },
    ],
    notes: [
      {
        ...base,
        id: 'nt_1001',
        record_type: 'contact',
        record_id: 'ct_1001',
        body: 'Prefers calls before 10:00 CET. Renewal needs sign-off from their CFO.',
        author: 'alice',
        pinned: true,
      },
      {
        ...base,
        id: 'nt_1002',
        record_type: 'deal',
        record_id: 'dl_1002',
        body: 'Pilot scope: 40 trucks, 3 depots. Asked for a 10% discount if extended to all depots.',
        author: 'alice',
        pinned: false,
      },
    ],
    tasks: [
      {
        ...base,
        id: 'tk_1001',
        title: 'Send revised proposal to Bluepeak',
        due_date: '2026-04-10',
        status: 'open',
        priority: 'high',
        assignee: 'alice',
        record_type: 'deal',
        record_id: 'dl_1002',
      },
      {
        ...base,
        id: 'tk_1002',
        title: 'Schedule security review with Priya',
        due_date: '2026-04-17',
        status: 'open',
        priority: 'normal',
        assignee: 'alice',
        record_type: 'contact',
        record_id: 'ct_1003',
      },
    ],
  };
}

function globex(): TenantSeed {
  const tenant = 'globex';
  const base = { tenant, created_at: T0, updated_at: T0 };
  return {
    companies: [
      { ...base, id: 'co_2001', name: 'Initech', domain: 'initech.example', industry: 'software', employees: 300, owner: 'carol' },
      { ...base, id: 'co_2002', name: 'Umbrella Health', domain: 'umbrella-health.example', industry: 'healthcare', employees: 5000, owner: 'carol' },
    ],
    contacts: [
      {
        ...base,
        id: 'ct_2001',
        first_name: 'Samir',
        last_name: 'Haddad',
        email: 'samir.haddad@initech.example',
        phone: '+1 512 555 0142',
        title: 'CTO',
        company_id: 'co_2001',
        owner: 'carol',
        tags: ['decision-maker'],
      },
      {
        ...base,
        id: 'ct_2002',
        first_name: 'Lena',
        last_name: 'Fischer',
        email: 'l.fischer@umbrella-health.example',
        title: 'Purchasing Manager',
        company_id: 'co_2002',
        owner: 'carol',
        tags: [],
      },
      {
        ...base,
        id: 'ct_2003',
        first_name: 'Joanna',
        last_name: 'Kowalska',
        email: 'joanna.kowalska@initech.example',
        title: 'Office Manager',
        company_id: 'co_2001',
        owner: 'carol',
        tags: ['newsletter'],
      },
    ],
    deals: [
      {
        ...base,
        id: 'dl_2001',
        name: 'Initech — support contract',
        company_id: 'co_2001',
        contact_id: 'ct_2001',
        amount: 26000,
        currency: 'USD',
        stage: 'won',
        close_date: '2026-02-27',
        owner: 'carol',
      },
      {
        ...base,
        id: 'dl_2002',
        name: 'Umbrella Health — data platform',
        company_id: 'co_2002',
        contact_id: 'ct_2002',
        amount: 95000,
        currency: 'USD',
        stage: 'proposal',
        close_date: '2026-07-31',
        owner: 'carol',
      },
    ],
    notes: [
      {
        ...base,
        id: 'nt_2001',
        record_type: 'company',
        record_id: 'co_2002',
        body: 'Procurement runs through a framework agreement; security questionnaire due with every proposal.',
        author: 'carol',
        pinned: true,
      },
    ],
    tasks: [
      {
        ...base,
        id: 'tk_2001',
        title: 'Send security questionnaire to Umbrella Health',
        due_date: '2026-04-08',
        status: 'open',
        priority: 'high',
        assignee: 'carol',
        record_type: 'deal',
        record_id: 'dl_2002',
      },
    ],
  };
}

/** Fresh copies of the seed, keyed by tenant; each server instance gets its own. */
export function seedTenants(): Record<string, TenantSeed> {
  return { acme: acme(), globex: globex() };
}
