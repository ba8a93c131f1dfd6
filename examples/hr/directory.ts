/**
 * The HR server's in-memory employee directory. Unlike the CRM, HR is written carefully: every
 * lookup is scoped to the tenant asked for, and a tenant it does not know is an error.
 */
import type { Employee } from './records.js';
import { seedEmployees } from './seed.js';

export class UnknownTenantError extends Error {
  readonly code = 'ERR_HR_UNKNOWN_TENANT';
}

export class EmployeeDirectory {
  readonly #byTenant = new Map<string, Map<string, Employee>>();

  constructor(employees: Employee[] = seedEmployees()) {
    for (const e of employees) {
      let people = this.#byTenant.get(e.tenant);
      if (people === undefined) {
        people = new Map();
        this.#byTenant.set(e.tenant, people);
      }
      people.set(e.id, e);
    }
  }

  tenants(): string[] {
    return [...this.#byTenant.keys()];
  }

  /** All employees of the tenant, in id order. Throws UnknownTenantError for a tenant never seeded. */
  all(tenant: string): Employee[] {
    const people = this.#byTenant.get(tenant);
    if (people === undefined) throw new UnknownTenantError(`unknown tenant ${tenant}; known: ${this.tenants().join(', ')}`);
    return [...people.values()];
  }

  find(tenant: string, id: string): Employee | undefined {
    return this.all(tenant).find((e) => e.id === id);
  }

  directReports(tenant: string, managerId: string): Employee[] {
    return this.all(tenant).filter((e) => e.manager_id === managerId && e.status === 'active');
  }
}
