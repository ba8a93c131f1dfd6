/**
 * Bulk tools: export_contacts and bulk_email. These are the ones an attacker (or a confused
 * agent) most wants — a whole tenant's address book, or mail to all of it — so the demo keeps
 * them in the surface deliberately.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Contact, OutboundEmail } from '../records.js';
import type { CrmStore } from '../store.js';
import { advertise } from './advertise.js';
import { READ, SEND } from './annotations.js';
import * as f from './fields.js';
import { ok } from './reply.js';

const EXPORTABLE = ['id', 'first_name', 'last_name', 'email', 'phone', 'title', 'company_id', 'owner', 'tags', 'created_at', 'updated_at'] as const;
type ExportField = (typeof EXPORTABLE)[number];

const exportArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    format: z.enum(['csv', 'json']).default('csv'),
    fields: z.array(z.enum(EXPORTABLE)).min(1).max(EXPORTABLE.length).optional().describe('Columns to export; default all.'),
    owner: f.username.optional(),
    tag: z.string().max(40).optional(),
    limit: z.number().int().min(1).max(10_000).default(1000),
  }),
);
const emailArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    contact_ids: z.array(f.contactId).min(1).max(500),
    subject: z.string().min(1).max(200),
    body: z.string().min(1).max(20_000).describe('Plain text; {{first_name}} and {{last_name}} are replaced per recipient.'),
    reply_to: f.email.optional(),
  }),
);

export function registerBulkTools(server: McpServer, store: CrmStore): void {
  server.registerTool(
    'export_contacts',
    { title: 'Export contacts', description: "Export the tenant's contacts as CSV or JSON.", inputSchema: exportArgs, annotations: READ },
    async ({ tenant, format, fields, owner, tag, limit }) => {
      const columns: readonly ExportField[] = fields ?? EXPORTABLE;
      const rows = [...store.tenant(tenant).contacts.values()]
        .filter((c) => (owner === undefined || c.owner === owner) && (tag === undefined || c.tags.includes(tag)))
        .slice(0, limit ?? 1000)
        .map((c) => pick(c, columns));
      if (format === 'json') return ok({ format: 'json', count: rows.length, contacts: rows });
      return ok({ format: 'csv', count: rows.length, csv: toCsv(columns, rows) });
    },
  );

  server.registerTool(
    'bulk_email',
    {
      title: 'Bulk e-mail',
      description: 'Send one e-mail to many contacts (queued to the mail relay). Unknown contact ids are skipped.',
      inputSchema: emailArgs,
      annotations: SEND,
    },
    async ({ tenant, contact_ids, subject, body, reply_to }) => {
      const data = store.tenant(tenant);
      const queued: OutboundEmail[] = [];
      const skipped: string[] = [];
      for (const id of contact_ids) {
        const contact = data.contacts.get(id);
        if (!contact) {
          skipped.push(id);
          continue;
        }
        const text = body.replaceAll('{{first_name}}', contact.first_name).replaceAll('{{last_name}}', contact.last_name);
        queued.push({ id: store.newId('email'), tenant, to: contact.email, contact_id: id, subject, body: text, queued_at: store.timestamp() });
      }
      data.outbox.push(...queued);
      return ok({ queued: queued.length, message_ids: queued.map((m) => m.id), skipped, ...(reply_to !== undefined && { reply_to }) });
    },
  );
}

function pick(contact: Contact, columns: readonly ExportField[]): Partial<Contact> {
  return Object.fromEntries(columns.map((c) => [c, contact[c]]));
}

function toCsv(columns: readonly ExportField[], rows: Partial<Contact>[]): string {
  const cell = (v: unknown) => {
    const s = Array.isArray(v) ? v.join(';') : v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n');
}
