/**
 * A Proposal as readable Cedar: one file per agent (a permit per tool it used, each with a
 * comment saying what was observed), and `carried-over.cedar` with the enforced set's forbids
 * and prompt/resource permits verbatim, so the suggestion only ever takes tools away.
 */
import type { AgentProposal, CarriedPolicy, Proposal, ToolPermit } from './suggest.js';
import { cedarCondition, describeConstraint } from './suggest-constraints.js';

export const CARRIED_FILE = 'carried-over.cedar';

/** File name → text. */
export function renderProposal(p: Proposal): Map<string, string> {
  const files = new Map<string, string>();
  for (const a of p.agents) files.set(agentFile(a.agent), renderAgent(a, p));
  files.set(CARRIED_FILE, renderCarried(p.carried));
  return files;
}

export function agentFile(agent: string): string {
  return `agent-${agent.replace(/[^A-Za-z0-9._-]/g, '_')}.cedar`;
}

export function permitId(agent: string, action: string): string {
  return `suggest:${agent}:${action}`;
}

function renderAgent(a: AgentProposal, p: Proposal): string {
  const usedWrites = a.permits.filter((t) => t.tool.kind !== 'read').length;
  const lines = [
    `// Suggested by \`toolgate policy suggest\` from the calls ${a.agent} made between ${p.from} and ${p.to}.`,
    `// ${a.calls} allowed calls (${a.denied} denied); ${who(a.users, a.tenants)}.`,
    `// The enforced set grants ${a.granted.length} tools; ${a.permits.length} were used (${usedWrites} write/delete); ${a.unused.length} left out:`,
    ...wrap(a.unused.length ? a.unused.join(', ') : 'none').map((l) => `//   ${l}`),
    '',
  ];
  for (const t of a.permits) lines.push(...renderPermit(a.agent, t), '');
  return lines.join('\n');
}

function renderPermit(agent: string, t: ToolPermit): string[] {
  const n = t.calls.length;
  const head = `// ${t.tool.exposed} (${t.tool.kind}): ${n} call${n === 1 ? '' : 's'}, first ${t.first}, last ${t.last}; ${who(t.users, t.tenants)}`;
  const notes = t.constraints.map((c) => `//   ${describeConstraint(c, n)}`);
  const scope = t.constraints.find((c) => c.kind === 'scope');
  const conditions = t.constraints.map(cedarCondition);
  return [
    head,
    ...notes,
    `@id(${JSON.stringify(permitId(agent, t.tool.action))})`,
    ...(scope ? [`@scope(${JSON.stringify(scope.scope)})`] : []),
    `permit (principal == Agent::${JSON.stringify(agent)}, action == Action::${JSON.stringify(t.tool.action)}, resource)${conditions.length ? '' : ';'}`,
    ...(conditions.length ? [`when { ${conditions.join('\n    && ')} };`] : []),
  ];
}

function renderCarried(carried: CarriedPolicy[]): string {
  const lines = [
    '// Carried over unchanged from the enforced set by `toolgate policy suggest`: every forbid (the',
    '// guard rails: business hours, tenants, who may delete) and the permits that grant no tool',
    '// (prompts, resources). With them in, the suggestion can only narrow what agents may do.',
    '',
  ];
  for (const c of carried) lines.push(`// carried over (${c.why}) from ${c.source.file}`, c.source.text.trim(), '');
  return lines.join('\n');
}

function who(users: string[], tenants: string[]): string {
  return `users ${users.length ? users.join(', ') : '(none: no user session)'}; tenants ${tenants.length ? tenants.join(', ') : '(none)'}`;
}

/** Splits a long comma list over several comment lines. */
function wrap(text: string, width = 96): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
