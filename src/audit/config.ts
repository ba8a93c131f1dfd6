/**
 * The `audit:` section of the config file: its schema (imported by src/config/schema.ts) and its
 * resolution into AuditSettings (imported by src/config/resolve.ts). Lives here so the shared
 * config files change by one line each. docs/config.md "audit" describes every key.
 */
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { RedactionMode, RedactionRules } from './redaction.js';

export interface AuditSettings {
  store: 'sqlite' | 'postgres';
  /** SQLite file; absent: `<home>/audit.db`, home being the gateway's state folder. */
  path?: string;
  /** PostgreSQL connection URL (store: postgres). */
  url?: string;
  /** PostgreSQL schema holding the tables. */
  schema: string;
  /** Names this gateway instance in chain records. */
  instance: string;
  /** Folder of the audit keys; absent: `<home>/keys`. */
  keys?: string;
  checkpoint: { everySeconds: number; everyRecords: number };
  retentionDays: number;
  failOpen: boolean;
  redaction: RedactionRules;
}

const MODES = ['keep', 'hmac', 'commit', 'drop'] as const;
const mode = z.enum(MODES, { error: `expected one of ${MODES.join(', ')}` });
const positive = (what: string) =>
  z.preprocess((v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v), z.int({ error: `expected ${what}` }).positive({ error: `expected ${what}` }));

export const auditSection = z
  .strictObject(
    {
      store: z.enum(['sqlite', 'postgres'], { error: 'expected sqlite or postgres' }).optional(),
      path: z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' }).optional(),
      url: z
        .string({ error: 'expected a postgres:// URL' })
        .refine((v) => /^postgres(ql)?:\/\//.test(v), { error: 'expected a postgres:// or postgresql:// URL (put secrets in ${ENV})' })
        .optional(),
      schema: z
        .string({ error: 'expected a schema name' })
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'expected a schema name of lowercase letters, digits and _' })
        .optional(),
      instance: z.string({ error: 'expected an instance name' }).min(1).optional(),
      keys: z.string({ error: 'expected a folder path' }).min(1, { error: 'expected a folder path' }).optional(),
      checkpoint: z
        .strictObject(
          { every_seconds: positive('a positive number of seconds').optional(), every_records: positive('a positive number of records').optional() },
          { error: 'expected a mapping with every_seconds and every_records' },
        )
        .optional(),
      retention_days: positive('a positive number of days').optional(),
      fail_open: z.boolean({ error: 'expected true or false' }).optional(),
      redaction: z
        .strictObject(
          {
            default: mode.optional(),
            detect_secrets: z.boolean({ error: 'expected true or false' }).optional(),
            tools: z
              .record(
                z.string(),
                z.record(z.string().regex(/^[^.]+(\.[^.]+)*$/, { error: 'expected a dotted argument path like contact.email' }), mode, {
                  error: 'expected a mapping of argument paths to keep, hmac, commit or drop',
                }),
                {
                  error: 'expected a mapping of tool names (or "*") to argument rules',
                },
              )
              .optional(),
          },
          { error: 'expected a mapping with default, detect_secrets and tools' },
        )
        .optional(),
    },
    { error: 'expected a mapping of audit settings' },
  )
  .superRefine((a, ctx) => {
    const store = a.store ?? 'sqlite';
    if (store === 'postgres' && a.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'store: postgres needs url (e.g. url: ${AUDIT_DATABASE_URL})' });
    if (store === 'sqlite' && a.url !== undefined)
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'url is for store: postgres; this section uses sqlite (set store: postgres, or use path)' });
    if (store === 'postgres' && a.path !== undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'path is for store: sqlite; this section uses postgres' });
  });

export type AuditSection = z.output<typeof auditSection>;

export function resolveAudit(section: AuditSection | undefined, folder: string): AuditSettings {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(folder, p));
  const s = section ?? {};
  const tools: Record<string, Record<string, RedactionMode>> = {};
  for (const [tool, rules] of Object.entries(s.redaction?.tools ?? {})) tools[tool] = { ...rules };
  return {
    store: s.store ?? 'sqlite',
    ...(s.path === undefined ? {} : { path: abs(s.path) }),
    ...(s.url === undefined ? {} : { url: s.url }),
    schema: s.schema ?? 'toolgate_audit',
    instance: s.instance ?? hostname(),
    ...(s.keys === undefined ? {} : { keys: abs(s.keys) }),
    checkpoint: { everySeconds: s.checkpoint?.every_seconds ?? 10, everyRecords: s.checkpoint?.every_records ?? 10_000 },
    retentionDays: s.retention_days ?? 180,
    failOpen: s.fail_open ?? false,
    redaction: { default: s.redaction?.default ?? 'keep', detectSecrets: s.redaction?.detect_secrets ?? true, tools },
  };
}

/**
 * The gateway's state folder: `TOOLGATE_HOME`, else `.toolgate` next to the config file. Tests
 * point it at a temporary folder so gateways they start leave nothing in the work tree.
 */
export function stateHome(configSource: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.TOOLGATE_HOME ? resolve(env.TOOLGATE_HOME) : join(dirname(configSource), '.toolgate');
}
