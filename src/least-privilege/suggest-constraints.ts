/**
 * Which conditions the observed calls of one (agent, tool) support. Each constraint holds for
 * every observed allowed call, so the suggested permit allows all of them again:
 *
 * - `own-tenant`: a string argument always equal to the caller's tenant (`context.tenant`).
 * - `one-of`: a string argument with few distinct values — for an `enum` argument, fewer than
 *   the enum has, over at least ENUM_MIN_CALLS calls; for free text, at most FREE_MAX_DISTINCT
 *   values over at least FREE_MIN_CALLS calls (fewer calls say too little about what comes next).
 *   Redacted values (`{"$hmac": …}`, `{"$commit": …}`, `hmac:…`) say nothing and rule it out.
 * - `user-present`: every call ran in a human user's session.
 * - `scope`: every call was allowed by a permit carrying `@scope(S)` and the caller had S;
 *   kept (annotation and condition), so a caller lacking S still hears 403 insufficient_scope.
 */
import type { ObservedCall } from './observed.js';
import type { SuggestTool } from './suggest-tool.js';

export type Constraint =
  | { kind: 'own-tenant'; argument: string }
  | { kind: 'one-of'; argument: string; values: string[]; optional: boolean; enumSize?: number }
  | { kind: 'user-present' }
  | { kind: 'scope'; scope: string };

export const ENUM_MIN_CALLS = 5;
export const FREE_MIN_CALLS = 10;
export const FREE_MAX_DISTINCT = 3;

// Argument names written as `context.arguments.name`; others are left unconstrained.
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'like', 'has', 'is']);

export function constraintsFor(tool: SuggestTool, calls: ObservedCall[], tenantOf: (c: ObservedCall) => string | undefined, scopeOf: Map<string, string>): Constraint[] {
  const out: Constraint[] = [];
  const properties = (tool.inputSchema as { properties?: Record<string, { enum?: unknown[] }> } | undefined)?.properties ?? {};
  for (const [argument, type] of Object.entries(tool.argumentShape)) {
    if (type.type !== 'String' || !PLAIN_NAME.test(argument) || RESERVED.has(argument)) continue;
    const values = calls.map((c) => c.args[argument]);
    if (values.some((v) => v !== undefined && (typeof v !== 'string' || /^(hmac|commit):/.test(v)))) continue;
    const present = values.filter((v): v is string => v !== undefined);
    if (present.length === calls.length && calls.every((c) => c.args[argument] === tenantOf(c) && tenantOf(c))) {
      out.push({ kind: 'own-tenant', argument });
      continue;
    }
    const distinct = [...new Set(present)].sort();
    const enumSize = Array.isArray(properties[argument]?.enum) ? properties[argument]!.enum!.length : undefined;
    const few = enumSize !== undefined ? present.length >= ENUM_MIN_CALLS && distinct.length < enumSize : present.length >= FREE_MIN_CALLS && distinct.length <= FREE_MAX_DISTINCT;
    if (few && distinct.length > 0)
      out.push({ kind: 'one-of', argument, values: distinct, optional: present.length < calls.length, ...(enumSize !== undefined ? { enumSize } : {}) });
  }
  if (calls.every((c) => c.user !== undefined)) out.push({ kind: 'user-present' });
  const scopes = new Set(calls.map((c) => c.policies.map((p) => scopeOf.get(p)).find((s) => s !== undefined)));
  const [scope] = [...scopes];
  if (scopes.size === 1 && scope !== undefined && calls.every((c) => c.scopes.includes(scope))) out.push({ kind: 'scope', scope });
  return out;
}

/** The constraint as a Cedar condition (strict validation wants `has` before an optional attribute). */
export function cedarCondition(c: Constraint): string {
  const arg = (name: string): string => `context.arguments.${name}`;
  switch (c.kind) {
    case 'own-tenant':
      return `context.arguments has ${c.argument} && ${arg(c.argument)} == context.tenant`;
    case 'one-of': {
      const list = `[${c.values.map((v) => JSON.stringify(v)).join(', ')}].contains(${arg(c.argument)})`;
      // `!(has x) || …` does not convince Cedar's validator the access is safe; if-then-else does.
      return c.optional ? `(if context.arguments has ${c.argument} then ${list} else true)` : `context.arguments has ${c.argument} && ${list}`;
    }
    case 'user-present':
      return 'context.user.present';
    case 'scope':
      return `context.scopes.contains(${JSON.stringify(c.scope)})`;
  }
}

/** One line for the comment above a permit. */
export function describeConstraint(c: Constraint, calls: number): string {
  switch (c.kind) {
    case 'own-tenant':
      return `${c.argument}: always the caller's tenant (${calls} of ${calls} calls)`;
    case 'one-of':
      return `${c.argument}: only ${c.values.join(', ')} seen${c.enumSize ? ` (of ${c.enumSize} allowed by the schema)` : ''}${c.optional ? ', or left out' : ''}`;
    case 'user-present':
      return 'every call in a user session';
    case 'scope':
      return `every call allowed under scope ${c.scope}`;
  }
}
