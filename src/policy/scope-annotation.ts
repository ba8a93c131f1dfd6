/**
 * `@scope("…")` on a permit names the OAuth scope that permit is written for: the policy stage
 * tells a caller lacking it which scope to step up to, and the least-privilege reports count a
 * call allowed by that permit as needing it. Only permits carry meaning here (a forbid grants
 * nothing to step up to), and an empty annotation names no scope.
 */
import { policyToJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicySource } from './source.js';

/** The parts of a policy's Cedar JSON form the annotation is read from. */
export interface AnnotatedPolicy {
  effect: string;
  annotations?: Record<string, string | null> | null;
}

/** The scope a permit names with `@scope`, if it is a permit and names one. */
export function permitScope(policy: AnnotatedPolicy): string | undefined {
  const scope = policy.annotations?.scope;
  return policy.effect === 'permit' && scope ? scope : undefined;
}

/** The `@scope` of each permit policy that has one, by policy id (policies that do not parse are skipped). */
export function permitScopes(sources: PolicySource[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of sources) {
    const json = policyToJson(s.text);
    const scope = json.type === 'success' ? permitScope(json.json) : undefined;
    if (scope) out.set(s.id, scope);
  }
  return out;
}
