import type { UpstreamConfig } from '../config/types.js';
import type { Principal, ServerAccess } from '../pipeline/stages.js';
import { insufficientScopeHeader } from './challenge.js';

/**
 * Server access: each upstream may declare baseline scopes; a caller whose token lacks any of
 * them sees nothing of that upstream (tools, prompts, resources) and a call to it is answered
 * 403 `insufficient_scope` naming the scopes, so the client can step up.
 *
 * Anonymous principals exist only when no authentication is configured (loopback or an
 * explicit `auth: { mode: none }`); there are no scopes to compare then, so nothing is hidden.
 */
const NONE: readonly string[] = Object.freeze([]);

/** The rule: which of `required` (an upstream's baseline scopes) `principal` lacks. */
export function missingBaseline(principal: Principal, required: readonly string[] | undefined): readonly string[] {
  if (!required || principal.anonymous) return NONE;
  // Asked for every listed item and every call: nothing is allocated unless a scope is missing.
  let missing: string[] | undefined;
  for (const scope of required) {
    if (!principal.scopes.includes(scope)) {
      missing ??= [];
      missing.push(scope);
    }
  }
  return missing ?? NONE;
}

/** Every baseline scope of these upstreams, for metadata and challenges. */
export function allBaselineScopes(upstreams: Pick<UpstreamConfig, 'scopes'>[]): string[] {
  return [...new Set(upstreams.flatMap((u) => u.scopes ?? []))];
}

/** @param metadataUrl where the protected-resource metadata is, read at refusal time */
export function createServerAccess(upstreams: Pick<UpstreamConfig, 'id' | 'scopes'>[], metadataUrl: () => string): ServerAccess {
  const required = new Map(upstreams.filter((u) => u.scopes && u.scopes.length > 0).map((u) => [u.id, u.scopes!]));
  return {
    missing: (principal, upstream) => missingBaseline(principal, required.get(upstream)),
    refusalHeaders: (scopes) => ({ 'www-authenticate': insufficientScopeHeader([...scopes], metadataUrl()) }),
  };
}
