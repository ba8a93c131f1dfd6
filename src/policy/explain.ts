/**
 * One question to the policy, answered with everything that decided it: argument validation,
 * list-time visibility, the Cedar decision, the deciding policies with file:line and text, and
 * the scopes that would change a denial. Used by `toolgate policy explain` and `policy test`.
 */
import type { Decision } from '../pipeline/stages.js';
import { lineColumn } from './source.js';
import type { PrincipalSpec, Workbench } from './workbench.js';
import { principalOf } from './workbench.js';

export interface Question {
  principal: PrincipalSpec;
  /** The tool as clients see it (e.g. crm__write_contact). */
  tool: string;
  arguments?: Record<string, unknown>;
  /** ISO time; default now. */
  time?: string;
  session?: boolean;
}

export interface Answer {
  verdict: 'allow' | 'deny' | 'invalid' | 'unknown-tool';
  listed: boolean;
  decision?: Decision;
  argumentProblem?: string;
  deciding: Array<{ id: string; where: string; text: string }>;
}

export function ask(bench: Workbench, q: Question): Answer {
  bench.clock.set(q.time ? new Date(q.time) : new Date());
  const entry = bench.registry.catalog.resolve('tools', q.tool);
  if (!entry) return { verdict: 'unknown-tool', listed: false, deciding: [] };
  const principal = principalOf(q.principal);
  const args = q.arguments ?? {};
  const listed = bench.stage.mayList(principal, 'tool', entry.upstream, entry.original);
  const problem = bench.arguments.check(entry.item.inputSchema, args);
  if (problem) return { verdict: 'invalid', listed, argumentProblem: `${problem.field || 'arguments'} ${problem.message}`, deciding: [] };
  const decision = bench.stage.decide(
    principal,
    { method: 'tools/call', upstream: entry.upstream, target: entry.original, exposedName: q.tool, arguments: args },
    { requestId: 'explain', protocolVersion: '2025-11-25', receivedAt: bench.clock.now(), ...(q.session === false ? {} : { sessionId: 'explain-session' }) },
  );
  const deciding = decision.policies.map((id) => {
    const s = bench.stage.source(id);
    if (!s) return { id, where: '?', text: '' };
    const at = lineColumn(s.fileText, s.offset);
    return { id, where: `${s.file}:${at.line}`, text: s.text };
  });
  return { verdict: decision.verdict, listed, decision, deciding };
}
