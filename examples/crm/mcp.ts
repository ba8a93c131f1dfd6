/**
 * The CRM as an MCP server: one McpServer per serving unit (SDK v2's createMcpHandler asks for a
 * fresh instance per HTTP request), all of them sharing one CrmStore.
 */
import { McpServer } from '@modelcontextprotocol/server';
import type { CrmStore } from './store.js';
import { registerBulkTools } from './tools/bulk.js';
import { registerCompanyTools } from './tools/companies.js';
import { registerContactTools } from './tools/contacts.js';
import { registerDealTools } from './tools/deals.js';
import { registerNoteTools } from './tools/notes.js';
import { registerReportTools } from './tools/reports.js';
import { registerTaskTools } from './tools/tasks.js';

export const CRM_SERVER_INFO = { name: 'toolgate-example-crm', version: '1.0.0' } as const;

export function createCrmMcpServer(store: CrmStore): McpServer {
  const server = new McpServer(CRM_SERVER_INFO, {
    capabilities: { tools: {} },
    instructions: 'Example CRM for the toolgate demo. Every tool takes the tenant ("acme", "globex") the records belong to.',
  });
  registerContactTools(server, store);
  registerCompanyTools(server, store);
  registerDealTools(server, store);
  registerNoteTools(server, store);
  registerTaskTools(server, store);
  registerBulkTools(server, store);
  registerReportTools(server, store);
  return server;
}
