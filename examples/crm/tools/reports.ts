/** Reporting tools: read-only aggregates, what report-bot is for. */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { DEAL_STAGES, type DealStage } from '../records.js';
import type { CrmStore } from '../store.js';
import { advertise } from './advertise.js';
import { READ } from './annotations.js';
import * as f from './fields.js';
import { ok } from './reply.js';

const summaryArgs = advertise(z.strictObject({ tenant: f.tenant, owner: f.username.optional() }));

export function registerReportTools(server: McpServer, store: CrmStore): void {
  server.registerTool(
    'get_pipeline_summary',
    {
      title: 'Pipeline summary',
      description: 'Deal count and total value per stage and currency, optionally for one owner.',
      inputSchema: summaryArgs,
      annotations: READ,
    },
    async ({ tenant, owner }) => {
      const stages = Object.fromEntries(DEAL_STAGES.map((s) => [s, { count: 0, totals: {} as Record<string, number> }])) as Record<
        DealStage,
        { count: number; totals: Record<string, number> }
      >;
      for (const deal of store.tenant(tenant).deals.values()) {
        if (owner !== undefined && deal.owner !== owner) continue;
        stages[deal.stage] ??= { count: 0, totals: {} };
        const bucket = stages[deal.stage];
        bucket.count += 1;
        bucket.totals[deal.currency] = (bucket.totals[deal.currency] ?? 0) + deal.amount;
      }
      return ok({ tenant, ...(owner !== undefined && { owner }), stages });
    },
  );
}
