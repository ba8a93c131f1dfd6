/** The HR tools. Arguments are validated by SDK v1 against these zod schemas before any handler runs. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { type EmployeeDirectory, UnknownTenantError } from './directory.js';
import { CURRENCIES, DEPARTMENTS, EMPLOYEE_STATUSES, type Employee, summarize } from './records.js';

const tenant = z
  .string()
  .min(2)
  .max(32)
  .regex(/^[a-z][a-z0-9-]*$/)
  .describe('Tenant the employee belongs to, e.g. "acme".');
const employeeId = z
  .string()
  .regex(/^E[0-9]{4,6}$/)
  .describe('Employee id, e.g. "E1002".');
const isoDate = z.iso.date().describe('Calendar date, YYYY-MM-DD.');
const reason = z.string().min(3).max(500);

const READ = { readOnlyHint: true, openWorldHint: false };
const WRITE = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };

function ok(data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(data) }], structuredContent: data };
}

function failure(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** Runs a handler, turning the directory's known failures into tool errors the model can read. */
function guarded<A>(handler: (args: A) => CallToolResult): (args: A) => Promise<CallToolResult> {
  return async (args) => {
    try {
      return handler(args);
    } catch (error) {
      if (error instanceof UnknownTenantError) return failure(error.message);
      throw error;
    }
  };
}

export function registerHrTools(server: McpServer, directory: EmployeeDirectory): void {
  const notFound = (t: string, id: string | undefined) => failure(`employee ${id} not found in tenant ${t}`);

  server.registerTool(
    'read_employee',
    {
      title: 'Read employee',
      description: 'Full HR record of one employee, including salary and its history.',
      inputSchema: z.strictObject({ tenant, employee_id: employeeId }),
      annotations: READ,
    },
    guarded(({ tenant, employee_id }) => {
      const e = directory.find(tenant, employee_id);
      return e ? ok({ ...e }) : notFound(tenant, employee_id);
    }),
  );

  server.registerTool(
    'list_employees',
    {
      title: 'List employees',
      description: 'Employees of a tenant, optionally by department and status (no compensation data).',
      inputSchema: z.strictObject({
        tenant,
        department: z.enum(DEPARTMENTS).optional(),
        status: z.enum(EMPLOYEE_STATUSES).default('active'),
        limit: z.number().int().min(1).max(200).default(50),
        offset: z.number().int().min(0).max(10_000).default(0),
      }),
      annotations: READ,
    },
    guarded(({ tenant, department, status, limit, offset }) => {
      const all = directory.all(tenant).filter((e) => e.status === status && (department === undefined || e.department === department));
      const items = all.slice(offset, offset + limit).map(summarize);
      const next = offset + items.length;
      return ok({ employees: items, total: all.length, ...(next < all.length && { next_offset: next }) });
    }),
  );

  server.registerTool(
    'search_employees',
    {
      title: 'Search employees',
      description: 'Find employees by name, user name, e-mail or job title (no compensation data).',
      inputSchema: z.strictObject({ tenant, query: z.string().min(1).max(100) }),
      annotations: READ,
    },
    guarded(({ tenant, query }) => {
      const needle = query.toLowerCase();
      const hits = directory
        .all(tenant)
        .filter((e) => [e.name, e.username, e.email, e.title].some((v) => v.toLowerCase().includes(needle)))
        .map(summarize);
      return ok({ employees: hits, total: hits.length });
    }),
  );

  server.registerTool(
    'get_org_chart',
    {
      title: 'Org chart',
      description: 'Reporting lines below an employee (default: the top of the tenant), to a given depth.',
      inputSchema: z.strictObject({ tenant, root_employee_id: employeeId.optional(), depth: z.number().int().min(1).max(10).default(3) }),
      annotations: READ,
    },
    guarded(({ tenant, root_employee_id, depth }) => {
      const roots = root_employee_id === undefined ? directory.all(tenant).filter((e) => e.manager_id === null) : [directory.find(tenant, root_employee_id)];
      if (roots.some((r) => r === undefined)) return notFound(tenant, root_employee_id);
      type Node = { id: string; name: string; title: string; reports?: Node[] };
      const node = (e: Employee, level: number): Node => {
        const below = level < depth ? directory.directReports(tenant, e.id).map((r) => node(r, level + 1)) : [];
        return { id: e.id, name: e.name, title: e.title, ...(below.length > 0 && { reports: below }) };
      };
      return ok({ tenant, depth, chart: (roots as Employee[]).map((r) => node(r, 1)) });
    }),
  );

  server.registerTool(
    'update_salary',
    {
      title: 'Update salary',
      description: 'Set a new base salary from an effective date; the previous one is kept in the history.',
      inputSchema: z.strictObject({
        tenant,
        employee_id: employeeId,
        amount: z.number().positive().max(5_000_000).describe('New yearly base salary.'),
        currency: z.enum(CURRENCIES),
        effective_date: isoDate,
        reason,
      }),
      annotations: WRITE,
    },
    guarded(({ tenant, employee_id, amount, currency, effective_date, reason }) => {
      const e = directory.find(tenant, employee_id);
      if (!e) return notFound(tenant, employee_id);
      if (e.status === 'terminated') return failure(`employee ${employee_id} is terminated; salary not changed`);
      const previous = e.salary;
      e.salary = { amount, currency, effective_date, reason };
      e.salary_history.push(e.salary);
      return ok({ employee_id, previous_salary: previous, salary: e.salary });
    }),
  );

  server.registerTool(
    'terminate_employee',
    {
      title: 'Terminate employee',
      description: 'End an employment from an effective date. Cannot be undone through this API.',
      inputSchema: z.strictObject({ tenant, employee_id: employeeId, effective_date: isoDate, reason }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(({ tenant, employee_id, effective_date, reason }) => {
      const e = directory.find(tenant, employee_id);
      if (!e) return notFound(tenant, employee_id);
      if (e.status === 'terminated') return failure(`employee ${employee_id} is already terminated (effective ${e.termination?.effective_date})`);
      e.status = 'terminated';
      e.termination = { effective_date, reason };
      return ok({ employee_id, status: e.status, termination: e.termination });
    }),
  );
}
