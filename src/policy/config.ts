/**
 * The `policy:` section of the config file: its schema (imported by src/config/schema.ts) and
 * its resolution into PolicySettings (imported by src/config/resolve.ts). Lives here so the
 * shared config files change by one line each.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { isTimeZone } from './clock.js';
import { DEFAULT_KIND_RULES } from './kinds.js';
import type { PolicySettings } from './settings.js';

const paths = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected a path or a list of paths to .cedar files or folders of them' })
  .transform((v) => (Array.isArray(v) ? v : [v]));
const globs = z.array(z.string({ error: 'expected a tool-name pattern like delete_*' }), { error: 'expected a list of tool-name patterns like delete_*' });
const kindRules = z.strictObject(
  {
    delete: globs.optional(),
    write: globs.optional(),
    read: globs.optional(),
    default: z.enum(['read', 'write', 'delete'], { error: 'expected read, write or delete' }).optional(),
  },
  { error: 'expected a mapping with delete, write, read (tool-name patterns) and default' },
);

export const policySection = z.strictObject(
  {
    files: paths,
    shadow: paths.optional(),
    time_zone: z.string({ error: 'expected an IANA time zone like Europe/Berlin' }).refine(isTimeZone, { error: 'expected an IANA time zone like Europe/Berlin' }).optional(),
    agents: z
      .record(
        z.string(),
        z.strictObject(
          { tenant: z.string({ error: 'expected a tenant id' }).optional(), groups: z.array(z.string(), { error: 'expected a list of group names' }).optional() },
          { error: 'expected a mapping with tenant and groups' },
        ),
        { error: 'expected a mapping of agent ids to their attributes' },
      )
      .optional(),
    kinds: z.record(z.string(), kindRules, { error: 'expected a mapping of upstream ids (or "*") to kind rules' }).optional(),
    pinning: z
      .strictObject(
        {
          first_run: z.enum(['approve', 'require'], { error: 'expected approve or require' }).optional(),
          store: z.string({ error: 'expected a file path' }).min(1).optional(),
        },
        { error: 'expected a mapping with first_run and store' },
      )
      .optional(),
    max_argument_bytes: z.int({ error: 'expected a positive integer' }).positive({ error: 'expected a positive integer' }).optional(),
  },
  { error: 'expected a mapping with files and optional shadow, time_zone, agents, kinds, pinning, max_argument_bytes' },
);

export type PolicySection = z.output<typeof policySection>;

export function resolvePolicy(section: PolicySection, folder: string): PolicySettings {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(folder, p));
  const kinds: PolicySettings['kinds'] = {};
  for (const [upstream, r] of Object.entries(section.kinds ?? {})) {
    kinds[upstream] = { delete: r.delete ?? [], write: r.write ?? [], read: r.read ?? [], default: r.default ?? 'read' };
  }
  kinds['*'] ??= DEFAULT_KIND_RULES;
  return {
    files: section.files.map(abs),
    shadowFiles: (section.shadow ?? []).map(abs),
    timeZone: section.time_zone ?? 'Europe/Berlin',
    agents: Object.fromEntries(Object.entries(section.agents ?? {}).map(([id, a]) => [id, { ...(a.tenant ? { tenant: a.tenant } : {}), groups: a.groups ?? [] }])),
    kinds,
    ...(section.pinning ? { pinning: { firstRun: section.pinning.first_run ?? 'approve', store: abs(section.pinning.store ?? '.toolgate/pins.json') } } : {}),
    maxArgumentBytes: section.max_argument_bytes ?? 65_536,
  };
}
