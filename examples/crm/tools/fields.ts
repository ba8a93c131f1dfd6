/**
 * Field schemas shared by the CRM tools. They describe the contract the CRM advertises; see
 * advertise.ts for how little of it the server itself enforces.
 */
import * as z from 'zod';
import { CURRENCIES, DEAL_STAGES, RECORD_TYPES, TASK_PRIORITIES, TASK_STATUSES } from '../records.js';

export const tenant = z
  .string()
  .min(2)
  .max(32)
  .regex(/^[a-z][a-z0-9-]*$/)
  .describe('Tenant (customer account) the records belong to, e.g. "acme".');

const idOf = (prefix: string, what: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[0-9]{1,9}$`))
    .describe(`${what} id, e.g. "${prefix}_1001".`);

export const contactId = idOf('ct', 'Contact');
export const companyId = idOf('co', 'Company');
export const dealId = idOf('dl', 'Deal');
export const noteId = idOf('nt', 'Note');
export const taskId = idOf('tk', 'Task');
export const recordId = z
  .string()
  .regex(/^(ct|co|dl)_[0-9]{1,9}$/)
  .describe('Id of a contact, company or deal, e.g. "dl_1002".');

export const personName = z.string().min(1).max(120);
export const email = z.email().max(254);
export const phone = z
  .string()
  .regex(/^\+?[0-9 ()-]{4,32}$/)
  .describe('Phone number, international format preferred.');
export const jobTitle = z.string().max(120);
export const username = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{1,63}$/)
  .describe('CRM user name, e.g. "alice".');
export const tags = z.array(z.string().min(1).max(40)).max(20);
export const isoDate = z.iso.date().describe('Calendar date, YYYY-MM-DD.');
export const amount = z.number().min(0).max(1_000_000_000);
export const currency = z.enum(CURRENCIES);
export const dealStage = z.enum(DEAL_STAGES);
export const recordType = z.enum(RECORD_TYPES);
export const taskStatus = z.enum(TASK_STATUSES);
export const taskPriority = z.enum(TASK_PRIORITIES);
export const noteBody = z.string().min(1).max(5000);

export const query = z.string().max(200).describe('Case-insensitive text to look for.');
export const limit = z.number().int().min(1).max(100).default(20).describe('Page size (1–100).');
export const offset = z.number().int().min(0).max(10_000).default(0).describe('Records to skip.');
