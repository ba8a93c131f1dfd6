import type { UpstreamCredentialConfig } from '../config/types.js';
import type { AuditSink, CredentialStage, Invocation, Principal, RequestContext } from '../pipeline/stages.js';
import { CredentialError } from './errors.js';
import type { CallTokenMinter } from './minter.js';
import { scopesFor } from './scopes.js';
import { exchangeToken } from './token-exchange.js';

export interface PerCallCredentialsOptions {
  /** Each upstream's credential mode; an upstream not listed gets no credential. */
  upstreams: ReadonlyMap<string, UpstreamCredentialConfig>;
  /** Needed when any upstream is in minted mode. */
  minter?: CallTokenMinter;
  audit: AuditSink;
  /** Time allowed for one token exchange. */
  exchangeTimeoutMs?: number;
}

/**
 * The credentials stage: for each allowed call, the headers that authenticate exactly that call
 * to its upstream. Minted: a fresh signed JWT per call. Token exchange: a token from the
 * enterprise authorization server for this upstream, obtained with the caller's token. Static: a
 * configured secret (weakest: the same for every caller). The client's own token is never among
 * the headers, and a failure never falls back to it: the call fails, and a 'credential' audit
 * event says why.
 */
export class PerCallCredentials implements CredentialStage {
  constructor(private readonly options: PerCallCredentialsOptions) {}

  async credentialFor(principal: Principal, invocation: Invocation, ctx: RequestContext): Promise<Record<string, string>> {
    const plan = this.options.upstreams.get(invocation.upstream);
    if (plan === undefined) return {};
    try {
      return await this.headersFor(plan, principal, invocation, ctx);
    } catch (err) {
      const error = err instanceof CredentialError ? err : new CredentialError('ERR_CREDENTIAL', invocation.upstream, (err as Error).message, { cause: err });
      await this.options.audit.record({
        kind: 'credential',
        at: new Date(),
        requestId: ctx.requestId,
        ...(ctx.sessionId !== undefined ? { sessionId: ctx.sessionId } : {}),
        principal: withoutToken(principal),
        invocation,
        detail: { upstream: invocation.upstream, mode: plan.mode, code: error.code, reason: error.message },
      });
      // The audit record got the local form; what travels on carries only the wire form (every
      // error raised in headersFor names invocation.upstream, token exchange included).
      throw new CredentialError(error.code, invocation.upstream, error.told, { cause: error });
    }
  }

  private async headersFor(plan: UpstreamCredentialConfig, principal: Principal, invocation: Invocation, ctx: RequestContext): Promise<Record<string, string>> {
    switch (plan.mode) {
      case 'none':
        return {};
      case 'static':
        return { [plan.header.toLowerCase()]: plan.value };
      case 'minted': {
        const minter = this.options.minter;
        if (minter === undefined) throw new CredentialError('ERR_SIGNING_KEY_MISSING', invocation.upstream, 'minted mode needs the credentials section (signing keys)');
        const { token } = minter.mint(principal, invocation, ctx, {
          audience: plan.audience,
          lifetimeSeconds: plan.lifetimeSeconds,
          scopes: scopesFor(plan.scopes, invocation.target),
        });
        return { authorization: `Bearer ${token}` };
      }
      case 'token_exchange': {
        if (principal.subjectToken === undefined) {
          throw new CredentialError('ERR_NO_SUBJECT_TOKEN', invocation.upstream, 'token exchange needs the caller to have authenticated with a token');
        }
        const token = await exchangeToken(
          {
            upstream: invocation.upstream,
            tokenEndpoint: plan.tokenEndpoint,
            clientId: plan.clientId,
            clientSecret: plan.clientSecret,
            resource: plan.resource,
            ...(plan.audience !== undefined ? { audience: plan.audience } : {}),
            timeoutMs: this.options.exchangeTimeoutMs ?? 10_000,
          },
          principal.subjectToken,
          scopesFor(plan.scopes, invocation.target),
        );
        return { authorization: `Bearer ${token}` };
      }
    }
  }
}

/** The audit record never holds the caller's token. */
function withoutToken(principal: Principal): Principal {
  if (principal.subjectToken === undefined) return principal;
  const { subjectToken: _omitted, ...rest } = principal;
  return rest;
}
