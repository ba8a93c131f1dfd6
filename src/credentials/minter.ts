import { randomUUID } from 'node:crypto';
import { argumentsHash, type PerCallClaims } from '@toolgate/verify';
import type { Invocation, Principal, RequestContext } from '../pipeline/stages.js';
import { traceIdOf } from '../protocol/trace-context.js';
import { JwsSigner } from './jws-signer.js';
import type { KeyRing } from './key-ring.js';

export interface MinterSettings {
  /** `iss` of every token. */
  issuer: string;
  /** This gateway instance, named in the innermost `act`. */
  instance: string;
  /** Clock in ms; injectable so expiry is testable without sleeping. */
  now?: () => number;
}

/** What one call's token is minted with, from the upstream's `credential:` config. */
export interface MintTarget {
  audience: string;
  lifetimeSeconds: number;
  /** The scopes this upstream needs for this tool (already looked up). */
  scopes: readonly string[];
}

/** A per-call token and the claims inside it (the claims are for the audit record and tests). */
export interface MintedCredential {
  token: string;
  claims: PerCallClaims;
}

/**
 * Mints the per-call JWT: for one upstream, one call, one principal, a few seconds. Nothing is
 * cached across calls (every token has its own jti and argument hash), so nothing can leak
 * from one principal's call to another's.
 */
export class CallTokenMinter {
  private signer: JwsSigner;
  private readonly now: () => number;

  constructor(
    private ring: () => KeyRing,
    private readonly settings: MinterSettings,
  ) {
    this.signer = new JwsSigner(ring().current);
    this.now = settings.now ?? Date.now;
  }

  mint(principal: Principal, invocation: Invocation, ctx: RequestContext, target: MintTarget): MintedCredential {
    const key = this.ring().current;
    if (key !== this.signer.key) this.signer = new JwsSigner(key);
    const iat = Math.floor(this.now() / 1000);
    const traceId = traceIdOf(ctx.traceparent);
    const audit = invocation.auditRef;
    const claims: PerCallClaims = {
      iss: this.settings.issuer,
      aud: target.audience,
      ...(principal.user !== undefined ? { sub: principal.user } : {}),
      act: { sub: principal.agent, act: { sub: this.settings.instance } },
      client_id: principal.agent,
      ...(target.scopes.length > 0 ? { scope: target.scopes.join(' ') } : {}),
      mcp_method: invocation.method,
      tool: invocation.target,
      args_sha256: argumentsHash(invocation.arguments),
      req_id: ctx.requestId,
      ...(ctx.sessionId !== undefined ? { sid: ctx.sessionId } : {}),
      ...(traceId !== undefined ? { trace_id: traceId } : {}),
      ...(ctx.instruction !== undefined ? { instruction: ctx.instruction } : {}),
      ...(audit !== undefined ? { audit: { chain: audit.chain, pos: audit.position, hash: audit.hash } } : {}),
      jti: randomUUID(),
      iat,
      exp: iat + target.lifetimeSeconds,
    };
    return { token: this.signer.sign(claims), claims };
  }
}
