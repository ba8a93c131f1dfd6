/** Deal tools: search/get/create/update/delete, plus update_deal_stage. */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Deal } from '../records.js';
import type { CrmStore } from '../store.js';
import { advertise } from './advertise.js';
import { DELETE, READ, UPSERT, WRITE } from './annotations.js';
import * as f from './fields.js';
import { applyPatch } from './patch.js';
import { matches, notFound, ok, page } from './reply.js';

const dealFields = {
  name: z.string().min(1).max(200),
  company_id: f.companyId.optional(),
  contact_id: f.contactId.optional(),
  amount: f.amount.describe('Deal value in `currency`.'),
  currency: f.currency.default('EUR'),
  stage: f.dealStage.default('lead'),
  close_date: f.isoDate.optional().describe('Expected close date, YYYY-MM-DD.'),
  owner: f.username.optional(),
};

const searchArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    query: f.query.optional().describe('Matched against the deal name.'),
    stage: f.dealStage.optional(),
    company_id: f.companyId.optional(),
    owner: f.username.optional(),
    min_amount: f.amount.optional(),
    limit: f.limit,
    offset: f.offset,
  }),
);
const getArgs = advertise(z.strictObject({ tenant: f.tenant, deal_id: f.dealId }));
const createArgs = advertise(z.strictObject({ tenant: f.tenant, ...dealFields }));
const updateArgs = advertise(z.strictObject({ tenant: f.tenant, deal_id: f.dealId, ...z.object(dealFields).partial().shape, lost_reason: z.string().max(500).optional() }));
const stageArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    deal_id: f.dealId,
    stage: f.dealStage,
    lost_reason: z.string().max(500).optional().describe('Why the deal was lost; expected when stage is "lost".'),
  }),
);

export function registerDealTools(server: McpServer, store: CrmStore): void {
  server.registerTool(
    'search_deals',
    { title: 'Search deals', description: 'Find deals by name, stage, company, owner or minimum amount.', inputSchema: searchArgs, annotations: READ },
    async (args) => {
      const all = [...store.tenant(args.tenant).deals.values()].filter(
        (d) =>
          matches(d, args.query, ['name']) &&
          (args.stage === undefined || d.stage === args.stage) &&
          (args.company_id === undefined || d.company_id === args.company_id) &&
          (args.owner === undefined || d.owner === args.owner) &&
          (args.min_amount === undefined || d.amount >= args.min_amount),
      );
      const { items, ...rest } = page(all, args.limit, args.offset);
      return ok({ deals: items, ...rest });
    },
  );

  server.registerTool('get_deal', { title: 'Get deal', description: 'Read one deal by id.', inputSchema: getArgs, annotations: READ }, async ({ tenant, deal_id }) => {
    const deal = store.tenant(tenant).deals.get(deal_id);
    return deal ? ok({ ...deal }) : notFound('deal', deal_id, tenant);
  });

  server.registerTool(
    'create_deal',
    { title: 'Create deal', description: 'Open a new deal in the pipeline.', inputSchema: createArgs, annotations: WRITE },
    async ({ tenant, ...fields }) => {
      const now = store.timestamp();
      const deal: Deal = {
        id: store.newId('deal'),
        tenant,
        name: fields.name,
        amount: fields.amount,
        currency: fields.currency ?? 'EUR',
        stage: fields.stage ?? 'lead',
        owner: fields.owner ?? 'unassigned',
        created_at: now,
        updated_at: now,
      };
      if (fields.company_id !== undefined) deal.company_id = fields.company_id;
      if (fields.contact_id !== undefined) deal.contact_id = fields.contact_id;
      if (fields.close_date !== undefined) deal.close_date = fields.close_date;
      store.tenant(tenant).deals.set(deal.id, deal);
      return ok({ ...deal });
    },
  );

  server.registerTool(
    'update_deal',
    { title: 'Update deal', description: 'Change fields of an existing deal; omitted fields stay as they are.', inputSchema: updateArgs, annotations: WRITE },
    async ({ tenant, deal_id, ...patch }) => {
      const deal = store.tenant(tenant).deals.get(deal_id);
      if (!deal) return notFound('deal', deal_id, tenant);
      return ok({ ...applyPatch(deal, patch, store.timestamp()) });
    },
  );

  server.registerTool(
    'update_deal_stage',
    {
      title: 'Move deal to stage',
      description: 'Move a deal through the pipeline (lead → qualified → proposal → negotiation → won/lost).',
      inputSchema: stageArgs,
      annotations: UPSERT,
    },
    async ({ tenant, deal_id, stage, lost_reason }) => {
      const deal = store.tenant(tenant).deals.get(deal_id);
      if (!deal) return notFound('deal', deal_id, tenant);
      const previous_stage = deal.stage;
      applyPatch(deal, { stage, lost_reason }, store.timestamp());
      return ok({ deal: { ...deal }, previous_stage });
    },
  );

  server.registerTool(
    'delete_deal',
    { title: 'Delete deal', description: 'Permanently delete a deal.', inputSchema: getArgs, annotations: DELETE },
    async ({ tenant, deal_id }) => {
      if (!store.tenant(tenant).deals.delete(deal_id)) return notFound('deal', deal_id, tenant);
      return ok({ deleted: deal_id });
    },
  );
}
