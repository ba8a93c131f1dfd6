/**
 * `toolgate policy suggest`, the deciding part: from the tools/call decisions an audit log saw,
 * what each agent actually used (allowed calls only) against what the enforced set grants it,
 * and per used tool the argument constraints the observed values support. Pure: the catalog,
 * the grants and the enforced set come in, a Proposal goes out (rendered by suggest-cedar.ts and
 * suggest-tests.ts, written by suggest-command.ts).
 */

import { ToolgateError } from '../errors.js';
import type { PolicySource } from '../policy/source.js';
import type { ObservedCall } from './observed.js';
import { type Constraint, constraintsFor } from './suggest-constraints.js';
import type { SuggestTool } from './suggest-tool.js';

export type { SuggestTool } from './suggest-tool.js';

export interface ToolPermit {
  tool: SuggestTool;
  calls: ObservedCall[];
  first: string;
  last: string;
  users: string[];
  tenants: string[];
  constraints: Constraint[];
}

export interface AgentProposal {
  agent: string;
  /** Allowed calls observed for this agent. */
  calls: number;
  denied: number;
  users: string[];
  tenants: string[];
  permits: ToolPermit[];
  /** Actions the enforced set grants this agent in the contexts it was seen in (suggest-inputs.ts grantsOf). */
  granted: string[];
  /** Granted but never called: what the suggestion takes away. */
  unused: string[];
  /** The observed call whose principal and time stand for this agent (deny cases in tests.yaml). */
  representative: ObservedCall;
}

/** An enforced policy kept as it is: a forbid (guard rail) or a permit for prompts/resources only. */
export interface CarriedPolicy {
  source: PolicySource;
  why: 'forbid' | 'not a tool permit';
}

export interface Proposal {
  agents: AgentProposal[];
  carried: CarriedPolicy[];
  /** Time of the first and last allowed call used. */
  from: string;
  to: string;
  /** Allowed calls whose tool is no longer in the catalog (left out). */
  unknownTools: number;
}

export interface ProposalInput {
  calls: ObservedCall[];
  /** Live catalog by action id. */
  tools: Map<string, SuggestTool>;
  /** Per agent, the actions the enforced set grants it. */
  granted: Map<string, Set<string>>;
  enforced: Array<PolicySource & { effect: 'permit' | 'forbid'; toolScope: boolean; scope?: string }>;
  /** The tenant Cedar sees as `context.tenant` for a call (principal's, else the agent's configured one). */
  tenantOf: (call: ObservedCall) => string | undefined;
}

export class NothingObserved extends ToolgateError {
  constructor(message: string) {
    super('ERR_NOTHING_OBSERVED', message);
  }
}

/** Throws NothingObserved when no allowed tools/call is in `input.calls`. */
export function proposePolicies(input: ProposalInput): Proposal {
  const allowed = input.calls.filter((c) => c.verdict === 'allow');
  if (allowed.length === 0) throw new NothingObserved('no allowed tools/call decision in the range; nothing to suggest from');
  const scopeOf = new Map(input.enforced.filter((p) => p.effect === 'permit' && p.scope).map((p) => [p.id, p.scope!]));
  const byAgent = new Map<string, ObservedCall[]>();
  for (const c of input.calls) push(byAgent, c.agent, c);
  let unknownTools = 0;
  const agents: AgentProposal[] = [];
  for (const [agent, calls] of [...byAgent].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const ok = calls.filter((c) => c.verdict === 'allow');
    if (ok.length === 0) continue;
    const byTool = new Map<string, ObservedCall[]>();
    for (const c of ok) {
      const action = `${c.upstream}/${c.target}`;
      if (!input.tools.has(action)) unknownTools++;
      else push(byTool, action, c);
    }
    const permits = [...byTool]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([action, used]) => {
        const tool = input.tools.get(action)!;
        return {
          tool,
          calls: used,
          first: used[0]!.at,
          last: used.at(-1)!.at,
          users: distinct(used.map((c) => c.user)),
          tenants: distinct(used.map((c) => c.tenant)),
          constraints: constraintsFor(tool, used, input.tenantOf, scopeOf),
        };
      });
    const used = new Set(byTool.keys());
    const granted = [...(input.granted.get(agent) ?? [])].sort();
    agents.push({
      agent,
      calls: ok.length,
      denied: calls.length - ok.length,
      users: distinct(ok.map((c) => c.user)),
      tenants: distinct(ok.map((c) => c.tenant)),
      permits,
      granted,
      unused: granted.filter((a) => !used.has(a)),
      representative: ok[0]!,
    });
  }
  const carried = input.enforced
    .filter((p) => p.effect === 'forbid' || !p.toolScope)
    .map((p) => ({ source: p, why: p.effect === 'forbid' ? ('forbid' as const) : ('not a tool permit' as const) }));
  return { agents, carried, from: allowed[0]!.at, to: allowed.at(-1)!.at, unknownTools };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function distinct(values: Array<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined))].sort();
}
