/** Task tools: search/get/create/update/delete, plus complete_task. */
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Task } from '../records.js';
import type { CrmStore } from '../store.js';
import { advertise } from './advertise.js';
import { DELETE, READ, UPSERT, WRITE } from './annotations.js';
import * as f from './fields.js';
import { applyPatch } from './patch.js';
import { matches, notFound, ok, page } from './reply.js';

const taskFields = {
  title: z.string().min(1).max(200),
  due_date: f.isoDate.optional(),
  priority: f.taskPriority.default('normal'),
  assignee: f.username.optional().describe('CRM user who should do it; default "unassigned".'),
  record_type: f.recordType.optional(),
  record_id: f.recordId.optional(),
};

const searchArgs = advertise(
  z.strictObject({
    tenant: f.tenant,
    query: f.query.optional().describe('Matched against the task title.'),
    status: f.taskStatus.optional(),
    assignee: f.username.optional(),
    due_before: f.isoDate.optional(),
    record_id: f.recordId.optional(),
    limit: f.limit,
    offset: f.offset,
  }),
);
const getArgs = advertise(z.strictObject({ tenant: f.tenant, task_id: f.taskId }));
const createArgs = advertise(z.strictObject({ tenant: f.tenant, ...taskFields }));
const updateArgs = advertise(z.strictObject({ tenant: f.tenant, task_id: f.taskId, ...z.object(taskFields).partial().shape, status: f.taskStatus.optional() }));

export function registerTaskTools(server: McpServer, store: CrmStore): void {
  server.registerTool(
    'search_tasks',
    { title: 'Search tasks', description: 'Find tasks by text, status, assignee, due date or related record.', inputSchema: searchArgs, annotations: READ },
    async (args) => {
      const all = [...store.tenant(args.tenant).tasks.values()].filter(
        (t) =>
          matches(t, args.query, ['title']) &&
          (args.status === undefined || t.status === args.status) &&
          (args.assignee === undefined || t.assignee === args.assignee) &&
          (args.due_before === undefined || (t.due_date !== undefined && t.due_date < args.due_before)) &&
          (args.record_id === undefined || t.record_id === args.record_id),
      );
      const { items, ...rest } = page(all, args.limit, args.offset);
      return ok({ tasks: items, ...rest });
    },
  );

  server.registerTool('get_task', { title: 'Get task', description: 'Read one task by id.', inputSchema: getArgs, annotations: READ }, async ({ tenant, task_id }) => {
    const task = store.tenant(tenant).tasks.get(task_id);
    return task ? ok({ ...task }) : notFound('task', task_id, tenant);
  });

  server.registerTool(
    'create_task',
    { title: 'Create task', description: 'Create a follow-up task, optionally linked to a contact, company or deal.', inputSchema: createArgs, annotations: WRITE },
    async ({ tenant, ...fields }) => {
      const now = store.timestamp();
      const task: Task = {
        id: store.newId('task'),
        tenant,
        title: fields.title,
        status: 'open',
        priority: fields.priority ?? 'normal',
        assignee: fields.assignee ?? 'unassigned',
        created_at: now,
        updated_at: now,
      };
      if (fields.due_date !== undefined) task.due_date = fields.due_date;
      if (fields.record_type !== undefined) task.record_type = fields.record_type;
      if (fields.record_id !== undefined) task.record_id = fields.record_id;
      store.tenant(tenant).tasks.set(task.id, task);
      return ok({ ...task });
    },
  );

  server.registerTool(
    'update_task',
    { title: 'Update task', description: 'Change fields of an existing task; omitted fields stay as they are.', inputSchema: updateArgs, annotations: WRITE },
    async ({ tenant, task_id, ...patch }) => {
      const task = store.tenant(tenant).tasks.get(task_id);
      if (!task) return notFound('task', task_id, tenant);
      return ok({ ...applyPatch(task, patch, store.timestamp()) });
    },
  );

  server.registerTool('complete_task', { title: 'Complete task', description: 'Mark a task as done.', inputSchema: getArgs, annotations: UPSERT }, async ({ tenant, task_id }) => {
    const task = store.tenant(tenant).tasks.get(task_id);
    if (!task) return notFound('task', task_id, tenant);
    return ok({ ...applyPatch(task, { status: 'done' }, store.timestamp()) });
  });

  server.registerTool(
    'delete_task',
    { title: 'Delete task', description: 'Permanently delete a task.', inputSchema: getArgs, annotations: DELETE },
    async ({ tenant, task_id }) => {
      if (!store.tenant(tenant).tasks.delete(task_id)) return notFound('task', task_id, tenant);
      return ok({ deleted: task_id });
    },
  );
}
