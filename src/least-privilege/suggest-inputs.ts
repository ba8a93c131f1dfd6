/**
 * What a suggestion is computed against, read from the same policy layer the gateway runs (a
 * Workbench): the live catalog's tools with their kinds and Cedar argument types, what the
 * enforced set grants each observed agent, and the enforced policies with their effect and
 * whether they grant tools at all.
 */
import { policyToJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { UpstreamConfig } from '../config/types.js';
import { PROMPT_ACTION, RESOURCE_ACTION } from '../policy/schema.js';
import { permitScope } from '../policy/scope-annotation.js';
import type { PolicySettings } from '../policy/settings.js';
import { type PolicySource, readPolicies } from '../policy/source.js';
import { principalOf, type Workbench } from '../policy/workbench.js';
import { GrantOracle } from './grants.js';
import type { ObservedCall } from './observed.js';
import type { ProposalInput, SuggestTool } from './suggest.js';

/** Every tool of the live catalog by Cedar action id. */
export function catalogTools(bench: Workbench): Map<string, SuggestTool> {
  const tools = new Map<string, SuggestTool>();
  for (const e of bench.registry.catalog.entries('tools')) {
    const action = `${e.upstream}/${e.original}`;
    const view = bench.stage.view.tools.get(action);
    if (!view) continue;
    tools.set(action, { action, exposed: e.exposed, kind: view.kind, inputSchema: view.definition.inputSchema, argumentShape: view.argumentShape as SuggestTool['argumentShape'] });
  }
  return tools;
}

/**
 * Per agent, the tools the enforced set grants it — allowed for some arguments, session and
 * time of day (GrantOracle, the question `toolgate report usage` asks too) in any of the
 * contexts (user, tenant, scopes) the agent was seen in, and reachable at all: the upstream's
 * baseline scopes held, as the router requires.
 */
export function grantsOf(
  bench: Workbench,
  settings: PolicySettings,
  upstreams: UpstreamConfig[],
  calls: ObservedCall[],
  tools: Map<string, SuggestTool>,
): Map<string, Set<string>> {
  const oracle = new GrantOracle(settings, bench.stage.view, upstreams);
  const contexts = new Map<string, ObservedCall>();
  for (const c of calls) contexts.set([c.agent, c.user ?? '', c.tenant ?? '', [...c.scopes].sort().join(' ')].join('\u0000'), c);
  const granted = new Map<string, Set<string>>();
  for (const c of contexts.values()) {
    const principal = {
      ...principalOf({ agent: c.agent, ...(c.user ? { user: c.user } : {}), ...(c.tenant ? { tenant: c.tenant } : {}), scopes: c.scopes }),
      anonymous: c.agent === 'anonymous',
    };
    const set = granted.get(c.agent) ?? granted.set(c.agent, new Set()).get(c.agent)!;
    for (const action of tools.keys()) {
      const slash = action.indexOf('/');
      const upstream = action.slice(0, slash);
      if (oracle.grant(principal, upstream, action.slice(slash + 1))) set.add(action);
    }
  }
  return granted;
}

/** The enforced policies, each with its effect, `@scope`, and whether its action scope can reach a tool. */
export function enforcedPolicies(files: string[]): ProposalInput['enforced'] {
  return readPolicies(files).map((s: PolicySource) => {
    const parsed = policyToJson(s.text);
    if (parsed.type === 'failure') throw new Error(`${s.file}: ${parsed.errors[0]?.message}`);
    const json = parsed.json as { effect: 'permit' | 'forbid'; action: { op: string; entity?: EntityRef; entities?: EntityRef[] }; annotations?: Record<string, string> };
    const ids = json.action.op === 'All' ? undefined : json.action.entity ? [idOf(json.action.entity)] : (json.action.entities ?? []).map(idOf);
    const toolScope = ids === undefined || ids.some((id) => id !== PROMPT_ACTION && id !== RESOURCE_ACTION);
    const scope = permitScope(json);
    return { ...s, effect: json.effect, toolScope, ...(scope ? { scope } : {}) };
  });
}

type EntityRef = { id?: string; __entity?: { id: string } };
const idOf = (e: EntityRef): string => e.id ?? e.__entity?.id ?? '';
