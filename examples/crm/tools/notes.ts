/** Note tools: search/get/create/update/delete, plus add_note (the quick form agents use). */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Note, RecordType } from '../records.js';
import type { CrmStore } from '../store.js';
import { advertise } from './advertise.js';
import { DELETE, READ, WRITE } from './annotations.js';
import * as f from './fields.js';
import { applyPatch } from './patch.js';
import { matches, notFound, ok, page } from './reply.js';

const author = f.username.optional().describe('Who wrote the note; default "api".');

const searchArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    query: f.query.optional().describe('Matched against the note text.'),
    record_type: f.recordType.optional(),
    record_id: f.recordId.optional(),
    limit: f.limit,
    offset: f.offset,
  }),
);
const getArgs = advertise(z.strictObject({ tenant: f.tenant, note_id: f.noteId }));
const createArgs = advertise(z.strictObject({ tenant: f.tenant, record_type: f.recordType, record_id: f.recordId, body: f.noteBody, pinned: z.boolean().default(false), author }));
const updateArgs = advertise(z.strictObject({ tenant: f.tenant, note_id: f.noteId, body: f.noteBody.optional(), pinned: z.boolean().optional() }));
const addArgs = advertise(z.strictObject({ tenant: f.tenant, record_id: f.recordId.describe('Contact, company or deal the note is about.'), text: f.noteBody, author }));

const TYPE_BY_PREFIX: Record<string, RecordType> = { ct: 'contact', co: 'company', dl: 'deal' };

export function registerNoteTools(server: McpServer, store: CrmStore): void {
  const create = (tenant: string, fields: Omit<Note, 'id' | 'tenant' | 'created_at' | 'updated_at'>): Note => {
    const now = store.timestamp();
    const note: Note = { id: store.newId('note'), tenant, ...fields, created_at: now, updated_at: now };
    store.tenant(tenant).notes.set(note.id, note);
    return note;
  };

  server.registerTool(
    'search_notes',
    { title: 'Search notes', description: 'Find notes by text or by the record they are attached to.', inputSchema: searchArgs, annotations: READ },
    async (args) => {
      const all = [...store.tenant(args.tenant).notes.values()].filter(
        (n) =>
          matches(n, args.query, ['body']) &&
          (args.record_type === undefined || n.record_type === args.record_type) &&
          (args.record_id === undefined || n.record_id === args.record_id),
      );
      const { items, ...rest } = page(all, args.limit, args.offset);
      return ok({ notes: items, ...rest });
    },
  );

  server.registerTool('get_note', { title: 'Get note', description: 'Read one note by id.', inputSchema: getArgs, annotations: READ }, async ({ tenant, note_id }) => {
    const note = store.tenant(tenant).notes.get(note_id);
    return note ? ok({ ...note }) : notFound('note', note_id, tenant);
  });

  server.registerTool(
    'create_note',
    { title: 'Create note', description: 'Attach a note to a contact, company or deal.', inputSchema: createArgs, annotations: WRITE },
    async ({ tenant, record_type, record_id, body, pinned, author }) =>
      ok({ ...create(tenant, { record_type, record_id, body, pinned: pinned ?? false, author: author ?? 'api' }) }),
  );

  server.registerTool(
    'add_note',
    { title: 'Add note', description: 'Quickly add a note to any record; the record type is taken from the id.', inputSchema: addArgs, annotations: WRITE },
    async ({ tenant, record_id, text, author }) => {
      const record_type = TYPE_BY_PREFIX[String(record_id).slice(0, 2)] ?? 'contact';
      return ok({ ...create(tenant, { record_type, record_id, body: text, pinned: false, author: author ?? 'api' }) });
    },
  );

  server.registerTool(
    'update_note',
    { title: 'Update note', description: 'Edit the text of a note or pin/unpin it.', inputSchema: updateArgs, annotations: WRITE },
    async ({ tenant, note_id, ...patch }) => {
      const note = store.tenant(tenant).notes.get(note_id);
      if (!note) return notFound('note', note_id, tenant);
      return ok({ ...applyPatch(note, patch, store.timestamp()) });
    },
  );

  server.registerTool(
    'delete_note',
    { title: 'Delete note', description: 'Permanently delete a note.', inputSchema: getArgs, annotations: DELETE },
    async ({ tenant, note_id }) => {
      if (!store.tenant(tenant).notes.delete(note_id)) return notFound('note', note_id, tenant);
      return ok({ deleted: note_id });
    },
  );
}
