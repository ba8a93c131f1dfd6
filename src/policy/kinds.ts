/**
 * Which tools read, write or delete. Taken from the gateway's own configuration, never from the
 * server's annotations (readOnlyHint, destructiveHint): the governed server controls those.
 */
export type ToolKind = 'read' | 'write' | 'delete';

export interface KindRules {
  delete: string[];
  write: string[];
  read: string[];
  default: ToolKind;
}

/** Used for an upstream the config gives no rules for. */
export const DEFAULT_KIND_RULES: KindRules = {
  delete: ['delete_*', 'remove_*', 'terminate_*', 'purge_*'],
  write: ['create_*', 'update_*', 'write_*', 'add_*', 'set_*', 'merge_*', 'bulk_*', 'complete_*', 'send_*'],
  read: [],
  default: 'read',
};

/** `delete_*` → /^delete_.*$/ ; only `*` is special. */
function globPattern(glob: string): RegExp {
  return new RegExp(
    '^' +
      glob
        .split('*')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
}

/** Classifies tool names per upstream; delete rules are checked first, then write, then read. */
export class ToolKinds {
  private readonly compiled = new Map<string, Array<{ kind: ToolKind; pattern: RegExp }> & { fallback?: ToolKind }>();
  private readonly fallback: Array<{ kind: ToolKind; pattern: RegExp }> & { fallback?: ToolKind };

  constructor(perUpstream: Record<string, KindRules>) {
    for (const [upstream, rules] of Object.entries(perUpstream)) if (upstream !== '*') this.compiled.set(upstream, compile(rules));
    this.fallback = compile(perUpstream['*'] ?? DEFAULT_KIND_RULES);
  }

  of(upstream: string, tool: string): ToolKind {
    const rules = this.compiled.get(upstream) ?? this.fallback;
    for (const r of rules) if (r.pattern.test(tool)) return r.kind;
    return rules.fallback ?? 'read';
  }
}

function compile(rules: KindRules): Array<{ kind: ToolKind; pattern: RegExp }> & { fallback?: ToolKind } {
  const list: Array<{ kind: ToolKind; pattern: RegExp }> & { fallback?: ToolKind } = [];
  for (const kind of ['delete', 'write', 'read'] as const) for (const g of rules[kind]) list.push({ kind, pattern: globPattern(g) });
  list.fallback = rules.default;
  return list;
}
