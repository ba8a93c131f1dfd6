/**
 * Seed employees. The people toolgate's demo users stand for are here: in acme, alice works in
 * Sales and bob in HR; in globex, carol works in Sales. Ids are stable (see examples/README.md).
 */
import type { Currency, Department, Employee } from './records.js';

interface Person {
  id: string;
  username: string;
  name: string;
  title: string;
  department: Department;
  manager_id: string | null;
  location: string;
  hire_date: string;
  salary: number;
}

function employees(tenant: string, domain: string, currency: Currency, people: Person[]): Employee[] {
  return people.map((p) => {
    const salary = { amount: p.salary, currency, effective_date: p.hire_date, reason: 'hire' };
    return { ...p, tenant, email: `${p.username}@${domain}`, status: 'active', salary, salary_history: [salary] };
  });
}

/** Fresh copies of the seed; each server process gets its own. */
export function seedEmployees(): Employee[] {
  return [
    ...employees('acme', 'acme.example', 'EUR', [
      {
        id: 'E1001',
        username: 'frank',
        name: 'Frank Osei',
        title: 'Chief Executive Officer',
        department: 'Executive',
        manager_id: null,
        location: 'Berlin',
        hire_date: '2015-01-12',
        salary: 210000,
      },
      { id: 'E1002', username: 'bob', name: 'Bob Martens', title: 'HR Manager', department: 'HR', manager_id: 'E1001', location: 'Berlin', hire_date: '2018-04-03', salary: 86000 },
      {
        id: 'E1003',
        username: 'erin',
        name: 'Erin Vogel',
        title: 'Head of Sales',
        department: 'Sales',
        manager_id: 'E1001',
        location: 'Hamburg',
        hire_date: '2017-09-18',
        salary: 124000,
      },
      {
        id: 'E1004',
        username: 'alice',
        name: 'Alice Schneider',
        title: 'Account Executive',
        department: 'Sales',
        manager_id: 'E1003',
        location: 'Hamburg',
        hire_date: '2021-02-01',
        salary: 72000,
      },
      {
        id: 'E1005',
        username: 'grace',
        name: 'Grace Adeyemi',
        title: 'Chief Technology Officer',
        department: 'Engineering',
        manager_id: 'E1001',
        location: 'Berlin',
        hire_date: '2016-06-27',
        salary: 178000,
      },
      {
        id: 'E1006',
        username: 'dave',
        name: 'Dave Kim',
        title: 'Software Engineer',
        department: 'Engineering',
        manager_id: 'E1005',
        location: 'Remote',
        hire_date: '2023-10-09',
        salary: 81000,
      },
      {
        id: 'E1007',
        username: 'mia',
        name: 'Mia Hoffmann',
        title: 'Payroll Accountant',
        department: 'Finance',
        manager_id: 'E1001',
        location: 'Berlin',
        hire_date: '2022-03-14',
        salary: 64000,
      },
    ]),
    ...employees('globex', 'globex.example', 'USD', [
      {
        id: 'E2001',
        username: 'gina',
        name: 'Gina Russo',
        title: 'Chief Executive Officer',
        department: 'Executive',
        manager_id: null,
        location: 'Austin',
        hire_date: '2012-05-07',
        salary: 245000,
      },
      {
        id: 'E2002',
        username: 'hank',
        name: 'Hank Morales',
        title: 'Sales Director',
        department: 'Sales',
        manager_id: 'E2001',
        location: 'Austin',
        hire_date: '2016-11-21',
        salary: 158000,
      },
      {
        id: 'E2003',
        username: 'carol',
        name: 'Carol Nguyen',
        title: 'Account Executive',
        department: 'Sales',
        manager_id: 'E2002',
        location: 'Denver',
        hire_date: '2022-08-15',
        salary: 89000,
      },
      { id: 'E2004', username: 'ivy', name: 'Ivy Chen', title: 'HR Generalist', department: 'HR', manager_id: 'E2001', location: 'Austin', hire_date: '2020-01-06', salary: 76000 },
    ]),
  ];
}
