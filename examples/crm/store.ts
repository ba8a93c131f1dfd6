/**
 * The CRM's in-memory data, partitioned by tenant. Like many small SaaS backends it provisions a
 * tenant on first use: a write naming an unknown tenant silently creates it. Keeping tenants
 * apart is therefore the caller's job, which is the point of putting toolgate in front.
 */
import { type Company, type Contact, type Deal, ID_PREFIX, type Note, type OutboundEmail, type RecordKind, type Task } from './records.js';
import { seedTenants, type TenantSeed } from './seed.js';

export interface TenantData {
  contacts: Map<string, Contact>;
  companies: Map<string, Company>;
  deals: Map<string, Deal>;
  notes: Map<string, Note>;
  tasks: Map<string, Task>;
  outbox: OutboundEmail[];
}

export interface CrmStoreOptions {
  /** Seed per tenant; default: the demo seed (acme, globex). */
  seed?: Record<string, TenantSeed>;
  /** Clock for created_at/updated_at; injectable so tests need not depend on wall time. */
  now?: () => Date;
}

const FIRST_RUNTIME_ID = 5001;

export class CrmStore {
  readonly #tenants = new Map<string, TenantData>();
  readonly #nextId = new Map<RecordKind, number>();
  readonly #now: () => Date;

  constructor(options: CrmStoreOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    for (const [name, seed] of Object.entries(options.seed ?? seedTenants())) {
      this.#tenants.set(name, {
        contacts: byId(seed.contacts),
        companies: byId(seed.companies),
        deals: byId(seed.deals),
        notes: byId(seed.notes),
        tasks: byId(seed.tasks),
        outbox: [],
      });
    }
  }

  /** The tenant's data, created empty if the tenant was never seen before. */
  tenant(name: string): TenantData {
    let data = this.#tenants.get(name);
    if (data === undefined) {
      data = { contacts: new Map(), companies: new Map(), deals: new Map(), notes: new Map(), tasks: new Map(), outbox: [] };
      this.#tenants.set(name, data);
    }
    return data;
  }

  tenantNames(): string[] {
    return [...this.#tenants.keys()];
  }

  newId(kind: RecordKind): string {
    const n = this.#nextId.get(kind) ?? FIRST_RUNTIME_ID;
    this.#nextId.set(kind, n + 1);
    return `${ID_PREFIX[kind]}_${n}`;
  }

  timestamp(): string {
    return this.#now().toISOString();
  }
}

function byId<R extends { id: string }>(records: R[]): Map<string, R> {
  return new Map(records.map((r) => [r.id, r]));
}
