/** Company tools: search/get/create/update/delete. */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Company } from '../records.js';
import type { CrmStore } from '../store.js';
import { advertise } from './advertise.js';
import { DELETE, READ, WRITE } from './annotations.js';
import * as f from './fields.js';
import { applyPatch } from './patch.js';
import { matches, notFound, ok, page } from './reply.js';

const companyFields = {
  name: z.string().min(1).max(200),
  domain: z
    .string()
    .max(253)
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/)
    .optional()
    .describe('Web domain, e.g. "initech.example".'),
  industry: z.string().max(60).optional(),
  employees: z.number().int().min(1).max(10_000_000).optional(),
  owner: f.username.optional(),
};

const searchArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    query: f.query.optional().describe('Matched against name and domain.'),
    industry: z.string().max(60).optional(),
    limit: f.limit,
    offset: f.offset,
  }),
);
const getArgs = advertise(z.strictObject({ tenant: f.tenant, company_id: f.companyId }));
const createArgs = advertise(z.strictObject({ tenant: f.tenant, ...companyFields }));
const updateArgs = advertise(z.strictObject({ tenant: f.tenant, company_id: f.companyId, ...z.object(companyFields).partial().shape }));

export function registerCompanyTools(server: McpServer, store: CrmStore): void {
  server.registerTool(
    'search_companies',
    { title: 'Search companies', description: 'Find companies by name, domain or industry.', inputSchema: searchArgs, annotations: READ },
    async (args) => {
      const all = [...store.tenant(args.tenant).companies.values()].filter(
        (c) => matches(c, args.query, ['name', 'domain']) && (args.industry === undefined || c.industry === args.industry),
      );
      const { items, ...rest } = page(all, args.limit, args.offset);
      return ok({ companies: items, ...rest });
    },
  );

  server.registerTool(
    'get_company',
    { title: 'Get company', description: 'Read one company by id, with the ids of its contacts and deals.', inputSchema: getArgs, annotations: READ },
    async ({ tenant, company_id }) => {
      const data = store.tenant(tenant);
      const company = data.companies.get(company_id);
      if (!company) return notFound('company', company_id, tenant);
      const contact_ids = [...data.contacts.values()].filter((c) => c.company_id === company_id).map((c) => c.id);
      const deal_ids = [...data.deals.values()].filter((d) => d.company_id === company_id).map((d) => d.id);
      return ok({ ...company, contact_ids, deal_ids });
    },
  );

  server.registerTool(
    'create_company',
    { title: 'Create company', description: 'Add a new company (account).', inputSchema: createArgs, annotations: WRITE },
    async ({ tenant, ...fields }) => {
      const now = store.timestamp();
      const company: Company = { id: store.newId('company'), tenant, name: fields.name, owner: fields.owner ?? 'unassigned', created_at: now, updated_at: now };
      if (fields.domain !== undefined) company.domain = fields.domain;
      if (fields.industry !== undefined) company.industry = fields.industry;
      if (fields.employees !== undefined) company.employees = fields.employees;
      store.tenant(tenant).companies.set(company.id, company);
      return ok({ ...company });
    },
  );

  server.registerTool(
    'update_company',
    { title: 'Update company', description: 'Change fields of an existing company; omitted fields stay as they are.', inputSchema: updateArgs, annotations: WRITE },
    async ({ tenant, company_id, ...patch }) => {
      const company = store.tenant(tenant).companies.get(company_id);
      if (!company) return notFound('company', company_id, tenant);
      return ok({ ...applyPatch(company, patch, store.timestamp()) });
    },
  );

  server.registerTool(
    'delete_company',
    { title: 'Delete company', description: 'Permanently delete a company. Its contacts and deals keep pointing at the deleted id.', inputSchema: getArgs, annotations: DELETE },
    async ({ tenant, company_id }) => {
      if (!store.tenant(tenant).companies.delete(company_id)) return notFound('company', company_id, tenant);
      return ok({ deleted: company_id });
    },
  );
}
