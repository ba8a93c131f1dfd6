/**
 * Where a shadow (candidate) set disagreed with the enforced one, from the decision records
 * that carry a `shadow` verdict, grouped by (agent, tool):
 *
 * - would break: the enforced set allowed, the shadow set would deny. Promoting would refuse
 *   these calls; `toolgate policy promote` requires none.
 * - would widen: the enforced set denied, the shadow set would allow.
 */
import type { ObservedCall } from './observed.js';

export type Direction = 'would-break' | 'would-widen';

export interface DisagreementGroup {
  direction: Direction;
  agent: string;
  tool: string;
  count: number;
  first: string;
  last: string;
  users: string[];
  shadowPolicySetHash?: string;
  /** Chain positions of up to five examples (`chain:position`), for `toolgate audit query`. */
  examples: string[];
}

export interface ShadowComparison {
  /** Decisions in the range that carry a shadow verdict (restricted to `shadowHash` when given). */
  evaluated: number;
  agreed: number;
  groups: DisagreementGroup[];
  /** Shadow policy-set hashes seen, each with its first sighting. */
  hashes: Array<{ hash: string; first: string; decisions: number }>;
}

export function compareShadow(calls: ObservedCall[], shadowHash?: string): ShadowComparison {
  const hashes = new Map<string, { hash: string; first: string; decisions: number }>();
  const groups = new Map<string, DisagreementGroup>();
  let evaluated = 0;
  let agreed = 0;
  for (const c of calls) {
    if (!c.shadow) continue;
    const hash = c.shadow.policySetHash ?? '(unknown)';
    const h = hashes.get(hash) ?? hashes.set(hash, { hash, first: c.at, decisions: 0 }).get(hash)!;
    h.decisions++;
    if (shadowHash !== undefined && hash !== shadowHash) continue;
    evaluated++;
    if (c.shadow.verdict === c.verdict) {
      agreed++;
      continue;
    }
    const direction: Direction = c.verdict === 'allow' ? 'would-break' : 'would-widen';
    const key = `${direction}\u0000${c.agent}\u0000${c.tool}\u0000${hash}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        direction,
        agent: c.agent,
        tool: c.tool,
        count: 0,
        first: c.at,
        last: c.at,
        users: [],
        examples: [],
        ...(c.shadow.policySetHash ? { shadowPolicySetHash: c.shadow.policySetHash } : {}),
      };
      groups.set(key, g);
    }
    g.count++;
    g.last = c.at;
    if (c.user && !g.users.includes(c.user)) g.users.push(c.user);
    if (g.examples.length < 5) g.examples.push(`${c.chain}:${c.position}`);
  }
  const order = (g: DisagreementGroup) => `${g.direction === 'would-break' ? 0 : 1}${g.agent}\u0000${g.tool}`;
  return { evaluated, agreed, groups: [...groups.values()].sort((a, b) => (order(a) < order(b) ? -1 : 1)), hashes: [...hashes.values()] };
}

export function wouldBreak(c: ShadowComparison): DisagreementGroup[] {
  return c.groups.filter((g) => g.direction === 'would-break');
}

/** The comparison as a table for people. */
export function renderComparison(c: ShadowComparison): string {
  const lines = [`${c.evaluated} decisions evaluated by the shadow set, ${c.agreed} agreed, ${c.evaluated - c.agreed} disagreed`];
  for (const h of c.hashes) lines.push(`  shadow set ${h.hash}: ${h.decisions} decisions since ${h.first}`);
  for (const direction of ['would-break', 'would-widen'] as const) {
    const gs = c.groups.filter((g) => g.direction === direction);
    const calls = gs.reduce((n, g) => n + g.count, 0);
    lines.push(
      '',
      direction === 'would-break' ? `enforced allowed, shadow would deny (would break): ${calls} calls` : `enforced denied, shadow would allow (would widen): ${calls} calls`,
    );
    if (gs.length === 0) continue;
    const w = Math.max(5, ...gs.map((g) => g.agent.length));
    const t = Math.max(4, ...gs.map((g) => g.tool.length));
    lines.push(`  ${'agent'.padEnd(w)}  ${'tool'.padEnd(t)}  ${'calls'.padStart(5)}  first seen                last seen                 users`);
    for (const g of gs)
      lines.push(`  ${g.agent.padEnd(w)}  ${g.tool.padEnd(t)}  ${String(g.count).padStart(5)}  ${g.first.padEnd(24)}  ${g.last.padEnd(24)}  ${g.users.join(', ') || '-'}`);
  }
  return `${lines.join('\n')}\n`;
}
