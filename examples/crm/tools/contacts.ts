/** Contact tools: search/get/create/update/delete, plus write_contact (upsert) and merge_contacts. */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Contact } from '../records.js';
import type { CrmStore } from '../store.js';
import { advertise } from './advertise.js';
import { DELETE, READ, UPSERT, WRITE } from './annotations.js';
import * as f from './fields.js';
import { applyPatch } from './patch.js';
import { failure, matches, notFound, ok, page } from './reply.js';

const contactFields = {
  first_name: f.personName,
  last_name: f.personName,
  email: f.email,
  phone: f.phone.optional(),
  title: f.jobTitle.optional(),
  company_id: f.companyId.optional(),
  owner: f.username.optional().describe('CRM user who owns the contact; default "unassigned".'),
  tags: f.tags.optional(),
};

const searchArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    query: f.query.optional().describe('Matched against name, email and title.'),
    company_id: f.companyId.optional(),
    tag: z.string().max(40).optional(),
    owner: f.username.optional(),
    limit: f.limit,
    offset: f.offset,
  }),
);
const getArgs = advertise(z.strictObject({ tenant: f.tenant, contact_id: f.contactId }));
const createArgs = advertise(z.strictObject({ tenant: f.tenant, ...contactFields }));
const updateArgs = advertise(z.strictObject({ tenant: f.tenant, contact_id: f.contactId, ...z.object(contactFields).partial().shape }));
const writeArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    contact_id: f.contactId.optional().describe('Update this contact; if absent, the contact with the same email is updated, or a new one created.'),
    ...contactFields,
    first_name: f.personName.optional(),
    last_name: f.personName.optional(),
  }),
);
const deleteArgs = getArgs;
const mergeArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    primary_contact_id: f.contactId.describe('Contact that survives the merge.'),
    duplicate_contact_ids: z.array(f.contactId).min(1).max(10).describe('Contacts folded into the primary and then deleted.'),
  }),
);

type ContactPatch = Partial<Omit<Contact, 'id' | 'tenant' | 'created_at' | 'updated_at'>>;

export function registerContactTools(server: McpServer, store: CrmStore): void {
  server.registerTool(
    'search_contacts',
    { title: 'Search contacts', description: 'Find contacts by text, company, tag or owner.', inputSchema: searchArgs, annotations: READ },
    async (args) => {
      const all = [...store.tenant(args.tenant).contacts.values()].filter(
        (c) =>
          matches(c, args.query, ['first_name', 'last_name', 'email', 'title']) &&
          (args.company_id === undefined || c.company_id === args.company_id) &&
          (args.tag === undefined || c.tags.includes(args.tag)) &&
          (args.owner === undefined || c.owner === args.owner),
      );
      const { items, ...rest } = page(all, args.limit, args.offset);
      return ok({ contacts: items, ...rest });
    },
  );

  server.registerTool('get_contact', { title: 'Get contact', description: 'Read one contact by id.', inputSchema: getArgs, annotations: READ }, async ({ tenant, contact_id }) => {
    const contact = store.tenant(tenant).contacts.get(contact_id);
    return contact ? ok({ ...contact }) : notFound('contact', contact_id, tenant);
  });

  server.registerTool(
    'create_contact',
    { title: 'Create contact', description: 'Add a new contact.', inputSchema: createArgs, annotations: WRITE },
    async ({ tenant, ...fields }) => ok({ ...createContact(store, tenant, fields) }),
  );

  server.registerTool(
    'update_contact',
    { title: 'Update contact', description: 'Change fields of an existing contact; omitted fields stay as they are.', inputSchema: updateArgs, annotations: WRITE },
    async ({ tenant, contact_id, ...patch }) => {
      const contact = store.tenant(tenant).contacts.get(contact_id);
      if (!contact) return notFound('contact', contact_id, tenant);
      return ok({ ...applyPatch(contact, patch, store.timestamp()) });
    },
  );

  server.registerTool(
    'write_contact',
    {
      title: 'Write contact',
      description: 'Create or update a contact in one call: by contact_id if given, else by matching email, else a new contact is created.',
      inputSchema: writeArgs,
      annotations: UPSERT,
    },
    async ({ tenant, contact_id, ...fields }) => {
      const contacts = store.tenant(tenant).contacts;
      const existing = contact_id !== undefined ? contacts.get(contact_id) : [...contacts.values()].find((c) => c.email.toLowerCase() === String(fields.email).toLowerCase());
      if (contact_id !== undefined && existing === undefined) return notFound('contact', contact_id, tenant);
      if (existing) return ok({ action: 'updated', contact: { ...applyPatch(existing, fields, store.timestamp()) } });
      return ok({ action: 'created', contact: { ...createContact(store, tenant, fields) } });
    },
  );

  server.registerTool(
    'delete_contact',
    { title: 'Delete contact', description: 'Permanently delete a contact. Notes and tasks pointing at it are kept.', inputSchema: deleteArgs, annotations: DELETE },
    async ({ tenant, contact_id }) => {
      if (!store.tenant(tenant).contacts.delete(contact_id)) return notFound('contact', contact_id, tenant);
      return ok({ deleted: contact_id });
    },
  );

  server.registerTool(
    'merge_contacts',
    {
      title: 'Merge contacts',
      description: 'Fold duplicate contacts into a primary one: empty fields are filled, tags united, notes, tasks and deals re-pointed, duplicates deleted.',
      inputSchema: mergeArgs,
      annotations: { ...DELETE, idempotentHint: false },
    },
    async ({ tenant, primary_contact_id, duplicate_contact_ids }) => {
      const data = store.tenant(tenant);
      const primary = data.contacts.get(primary_contact_id);
      if (!primary) return notFound('contact', primary_contact_id, tenant);
      const duplicates = duplicate_contact_ids.filter((id) => id !== primary_contact_id).map((id) => data.contacts.get(id));
      const missing = duplicate_contact_ids.find((id, i) => id !== primary_contact_id && duplicates[i] === undefined);
      if (missing !== undefined) return failure(`contact ${missing} not found in tenant ${tenant}; nothing merged`);
      for (const dup of duplicates as Contact[]) {
        primary.phone ??= dup.phone;
        primary.title ??= dup.title;
        primary.company_id ??= dup.company_id;
        primary.tags = [...new Set([...primary.tags, ...dup.tags])];
        for (const note of data.notes.values()) if (note.record_id === dup.id) note.record_id = primary.id;
        for (const task of data.tasks.values()) if (task.record_id === dup.id) task.record_id = primary.id;
        for (const deal of data.deals.values()) if (deal.contact_id === dup.id) deal.contact_id = primary.id;
        data.contacts.delete(dup.id);
      }
      primary.updated_at = store.timestamp();
      return ok({ contact: { ...primary }, merged: duplicates.map((d) => d!.id) });
    },
  );
}

function createContact(store: CrmStore, tenant: string, fields: ContactPatch): Contact {
  const now = store.timestamp();
  const contact: Contact = {
    id: store.newId('contact'),
    tenant,
    first_name: fields.first_name ?? '',
    last_name: fields.last_name ?? '',
    email: fields.email ?? '',
    owner: fields.owner ?? 'unassigned',
    tags: fields.tags ?? [],
    created_at: now,
    updated_at: now,
  };
  if (fields.phone !== undefined) contact.phone = fields.phone;
  if (fields.title !== undefined) contact.title = fields.title;
  if (fields.company_id !== undefined) contact.company_id = fields.company_id;
  store.tenant(tenant).contacts.set(contact.id, contact);
  return contact;
}
