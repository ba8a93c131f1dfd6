/**
 * `toolgate report usage`: per agent (or user, tenant, upstream) the tools its policies grant
 * against the tools it called, and the share used — overall, and for write and delete tools
 * apart, since those are the surface worth narrowing. Pure: the observation, the catalog and a
 * grant oracle in, the report out; src/cli/report.ts does the reading and printing.
 *
 * "Granted" is asked per principal context seen in the range (agent, user, tenant, scopes as
 * recorded), arguments, session and time unknown (src/least-privilege/grants.ts), united over contexts.
 * The oracle also asks for an upstream's baseline scopes, as the router does.
 */
import type { Principal } from '../pipeline/stages.js';
import type { ToolKind } from '../policy/kinds.js';
import type { Condition, Grant } from './grants.js';
import type { Observation, ObservedCall } from './observed.js';

export type GroupBy = 'agent' | 'user' | 'tenant' | 'upstream';
export const GROUPINGS: readonly GroupBy[] = ['agent', 'user', 'tenant', 'upstream'];

export interface CatalogTool {
  upstream: string;
  /** The upstream's own name. */
  target: string;
  /** As clients see it (`crm__search_contacts`). */
  tool: string;
  kind: ToolKind;
}

export interface UsageInputs {
  observation: Observation;
  catalog: CatalogTool[];
  grant(principal: Principal, upstream: string, target: string): Grant | undefined;
  kindOf(upstream: string, target: string): ToolKind;
  /** `policy.agents`: agents the config knows; those with no call are reported granted, unused. */
  agents: Record<string, { tenant?: string }>;
  /** Scopes assumed for a configured agent with no call (every scope the config names). */
  knownScopes: string[];
  by: GroupBy;
  policySetHash?: string;
}

export interface ToolUsage {
  tool: string;
  upstream: string;
  target: string;
  kind: ToolKind;
  granted: boolean;
  /** Allowed only under conditions (arguments, time): the policies and what they require. */
  constraints: { arguments: Condition[]; time: Condition[]; session: Condition[] };
  allowed: number;
  denied: number;
  firstSeen?: string;
  lastSeen?: string;
}

export interface Share {
  granted: number;
  used: number;
  /** used / granted, 0..1; null when nothing is granted. */
  share: number | null;
}

export interface UsageGroup {
  /** The agent id (user, tenant, upstream id with --by); "(none)" for calls without one. */
  key: string;
  agents: string[];
  /** Principal contexts (agent, user, tenant, scopes) the grant was computed for. */
  contexts: number;
  /** No call in the range: granted from the config alone (policy.agents). */
  idle: boolean;
  all: Share;
  write: Share;
  delete: Share;
  /** Tools with an allowed call that the policy set no longer grants (it changed since). */
  allowedNotGranted: number;
  tools: ToolUsage[];
}

export interface UsageReport {
  version: 1;
  by: GroupBy;
  range: { since: string | null; until: string | null };
  calls: { allowed: number; denied: number; expired: number };
  policySetHash: string | null;
  groups: UsageGroup[];
  /** Summed over the groups: (group, tool) pairs granted and used. */
  total: { all: Share; write: Share; delete: Share };
}

export const NO_VALUE = '(none)';

export function usageReport(inputs: UsageInputs): UsageReport {
  const { observation, by } = inputs;
  const groups = new Map<string, { calls: ObservedCall[]; contexts: Map<string, Principal> }>();
  for (const call of observation.calls) {
    const key = keyOf(call, by, inputs.agents);
    let g = groups.get(key);
    if (!g) {
      g = { calls: [], contexts: new Map() };
      groups.set(key, g);
    }
    g.calls.push(call);
    const p = principalOfCall(call);
    g.contexts.set(contextKey(p), p);
  }
  const idle = new Set<string>();
  if (by === 'agent') {
    for (const [agent, a] of Object.entries(inputs.agents)) {
      if (groups.has(agent)) continue;
      idle.add(agent);
      const contexts = new Map<string, Principal>();
      for (const user of [undefined, '(any user)']) {
        const p: Principal = { agent, ...(user ? { user } : {}), ...(a.tenant ? { tenant: a.tenant } : {}), scopes: inputs.knownScopes, bindingKey: agent, anonymous: false };
        contexts.set(contextKey(p), p);
      }
      groups.set(agent, { calls: [], contexts });
    }
  }
  const out: UsageGroup[] = [];
  for (const [key, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.push(groupUsage(key, g.calls, [...g.contexts.values()], idle.has(key), inputs));
  }
  const sum = (k: 'all' | 'write' | 'delete'): Share =>
    share(
      out.reduce((n, g) => n + g[k].granted, 0),
      out.reduce((n, g) => n + g[k].used, 0),
    );
  return {
    version: 1,
    by,
    range: { since: iso(observation.range.from), until: iso(observation.range.to) },
    calls: {
      allowed: observation.calls.filter((c) => c.verdict === 'allow').length,
      denied: observation.calls.filter((c) => c.verdict === 'deny').length,
      expired: observation.expired,
    },
    policySetHash: inputs.policySetHash ?? null,
    groups: out,
    total: { all: sum('all'), write: sum('write'), delete: sum('delete') },
  };
}

function groupUsage(key: string, calls: ObservedCall[], contexts: Principal[], idle: boolean, inputs: UsageInputs): UsageGroup {
  const tools = new Map<string, ToolUsage>();
  const entry = (upstream: string, target: string, tool: string, kind: ToolKind): ToolUsage => {
    const id = `${upstream}/${target}`;
    let t = tools.get(id);
    if (!t) {
      t = { tool, upstream, target, kind, granted: false, constraints: { arguments: [], time: [], session: [] }, allowed: 0, denied: 0 };
      tools.set(id, t);
    }
    return t;
  };
  const catalog = inputs.by === 'upstream' ? inputs.catalog.filter((t) => t.upstream === key) : inputs.catalog;
  for (const c of catalog) {
    for (const p of contexts) {
      const g = inputs.grant(p, c.upstream, c.target);
      if (!g) continue;
      const t = entry(c.upstream, c.target, c.tool, c.kind);
      t.granted = true;
      for (const part of ['arguments', 'time', 'session'] as const) {
        for (const cond of g[part]) if (!t.constraints[part].some((x) => x.policy === cond.policy && x.requires === cond.requires)) t.constraints[part].push(cond);
      }
    }
  }
  for (const call of calls) {
    const t = entry(call.upstream, call.target, call.tool, inputs.kindOf(call.upstream, call.target));
    if (call.verdict === 'allow') t.allowed++;
    else t.denied++;
    t.firstSeen ??= call.at;
    t.lastSeen = call.at;
  }
  const list = [...tools.values()].sort((a, b) => (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0));
  const count = (kinds: ToolKind[]): Share => {
    const granted = list.filter((t) => t.granted && kinds.includes(t.kind));
    return share(granted.length, granted.filter((t) => t.allowed > 0).length);
  };
  return {
    key,
    agents: [...new Set([...calls.map((c) => c.agent), ...contexts.map((c) => c.agent)])].sort(),
    contexts: contexts.length,
    idle,
    all: count(['read', 'write', 'delete']),
    write: count(['write']),
    delete: count(['delete']),
    allowedNotGranted: list.filter((t) => !t.granted && t.allowed > 0).length,
    tools: list,
  };
}

function keyOf(call: ObservedCall, by: GroupBy, agents: UsageInputs['agents']): string {
  if (by === 'agent') return call.agent;
  if (by === 'user') return call.user ?? NO_VALUE;
  if (by === 'tenant') return call.tenant ?? agents[call.agent]?.tenant ?? NO_VALUE;
  return call.upstream;
}

/** The principal as the decision record saw it (what policy was given). */
function principalOfCall(call: ObservedCall): Principal {
  return {
    agent: call.agent,
    ...(call.user !== undefined ? { user: call.user } : {}),
    ...(call.tenant !== undefined ? { tenant: call.tenant } : {}),
    scopes: [...call.scopes].sort(),
    bindingKey: call.agent,
    // Recorded as agent "anonymous" with no scopes when the gateway runs without authentication.
    anonymous: call.agent === 'anonymous' && call.scopes.length === 0,
  };
}

function contextKey(p: Principal): string {
  return [p.agent, p.user ?? '', p.tenant ?? '', [...p.scopes].sort().join(' ')].join('\u0000');
}

function share(granted: number, used: number): Share {
  return { granted, used, share: granted === 0 ? null : used / granted };
}

function iso(d: Date | undefined): string | null {
  return d ? d.toISOString() : null;
}

/** `0.25` → `25%`; null → `-`. */
export function percent(s: Share): string {
  return s.share === null ? '-' : `${Math.round(s.share * 100)}%`;
}
