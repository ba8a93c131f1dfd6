import type { UpstreamConfig } from '../config/types.js';
import type { Principal } from '../pipeline/stages.js';
import { insufficientScopeHeader } from './challenge.js';

/**
 * The server layer (DESIGN.md): each upstream may declare baseline scopes; a caller whose
 * token lacks any of them sees nothing of that upstream (tools, prompts, resources) and a call
 * to it is answered 403 `insufficient_scope` naming the scopes, so the client can step up.
 *
 * Anonymous principals exist only when no authentication is configured (loopback or an
 * explicit `auth: { mode: none }`); there are no scopes to compare then, so nothing is hidden.
 */
/** What the router asks of the server layer. */
export interface ServerAccess {
  /** The scopes `principal` lacks to reach `upstream` at all; empty when it may. */
  missing(principal: Principal, upstream: string): string[];
  /** Headers of the 403 that asks for `scopes` (RFC 6750 `insufficient_scope`). */
  refusalHeaders(scopes: string[]): Record<string, string>;
}

export class UpstreamScopes implements ServerAccess {
  private readonly required: Map<string, string[]>;

  /** @param metadataUrl where the protected-resource metadata is, read at refusal time */
  constructor(upstreams: Pick<UpstreamConfig, 'id' | 'scopes'>[], private readonly metadataUrl: () => string) {
    this.required = new Map(upstreams.filter((u) => u.scopes && u.scopes.length > 0).map((u) => [u.id, u.scopes!]));
  }

  /** The baseline scopes of `upstream` that `principal` lacks; empty when it may reach it. */
  missing(principal: Principal, upstream: string): string[] {
    const need = this.required.get(upstream);
    if (!need || principal.anonymous) return [];
    return need.filter((s) => !principal.scopes.includes(s));
  }

  refusalHeaders(scopes: string[]): Record<string, string> {
    return { 'www-authenticate': insufficientScopeHeader(scopes, this.metadataUrl()) };
  }

  /** Every baseline scope, for metadata and challenges. */
  all(): string[] {
    return [...new Set([...this.required.values()].flat())];
  }
}

/**
 * A refusal the caller can fix with more scope: answered as HTTP 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` when the response has not
 * started, else as a JSON-RPC error on the stream. Thrown by the router; caught where the
 * response is written.
 */
export class InsufficientScope extends Error {
  readonly code = 'ERR_INSUFFICIENT_SCOPE';
  constructor(readonly scopes: string[], readonly reason: string) {
    super(`insufficient scope: needs ${scopes.join(' ')}`);
    this.name = 'InsufficientScope';
  }
}
