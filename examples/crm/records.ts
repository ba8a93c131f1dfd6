/**
 * The CRM's record shapes, as stored and as returned to MCP clients (snake_case, like the JSON
 * APIs real CRMs expose). Every record carries the tenant it belongs to.
 */

export const DEAL_STAGES = ['lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost'] as const;
export type DealStage = (typeof DEAL_STAGES)[number];

export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;
export type Currency = (typeof CURRENCIES)[number];

export const RECORD_TYPES = ['contact', 'company', 'deal'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export const TASK_STATUSES = ['open', 'done'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TASK_PRIORITIES = ['low', 'normal', 'high'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

export interface Contact {
  id: string;
  tenant: string;
  first_name: string;
  last_name: string;
  email: string;
  phone?: string;
  title?: string;
  company_id?: string;
  owner: string;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface Company {
  id: string;
  tenant: string;
  name: string;
  domain?: string;
  industry?: string;
  employees?: number;
  owner: string;
  created_at: string;
  updated_at: string;
}

export interface Deal {
  id: string;
  tenant: string;
  name: string;
  company_id?: string;
  contact_id?: string;
  amount: number;
  currency: Currency;
  stage: DealStage;
  close_date?: string;
  lost_reason?: string;
  owner: string;
  created_at: string;
  updated_at: string;
}

export interface Note {
  id: string;
  tenant: string;
  record_type: RecordType;
  record_id: string;
  body: string;
  author: string;
  pinned: boolean;
  created_at: string;
  updated_at: string;
}

export interface Task {
  id: string;
  tenant: string;
  title: string;
  due_date?: string;
  status: TaskStatus;
  priority: TaskPriority;
  assignee: string;
  record_type?: RecordType;
  record_id?: string;
  created_at: string;
  updated_at: string;
}

/** A message handed to the (simulated) mail relay by `bulk_email`. Nothing leaves the process. */
export interface OutboundEmail {
  id: string;
  tenant: string;
  to: string;
  contact_id: string;
  subject: string;
  body: string;
  queued_at: string;
}

/** Id prefixes, one per record kind; ids are unique across tenants. */
export const ID_PREFIX = {
  contact: 'ct',
  company: 'co',
  deal: 'dl',
  note: 'nt',
  task: 'tk',
  email: 'em',
} as const;
export type RecordKind = keyof typeof ID_PREFIX;
