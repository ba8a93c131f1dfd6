import type { KindRules } from './kinds.js';

/** The resolved `policy:` section (docs/config.md, "Policy"). Paths are absolute. */
export interface PolicySettings {
  /** Policy files and folders of `*.cedar` files, enforced. */
  files: string[];
  /** A candidate set evaluated beside the enforced one (shadow mode); never decides. */
  shadowFiles: string[];
  /** IANA zone for `context.time`; default Europe/Berlin. */
  timeZone: string;
  /** Agent attributes policies can read as `principal.tenant` / `principal.groups`. */
  agents: Record<string, { tenant?: string; groups: string[] }>;
  /** Tool kinds per upstream id; key `*` for every other upstream. */
  kinds: Record<string, KindRules>;
  pinning?: { firstRun: 'approve' | 'require'; store: string };
  /** Upper bound on the JSON size of one call's arguments; default 65536. */
  maxArgumentBytes: number;
}
