import type { JWTPayload } from 'jose';
import type { AuthConfig, CertificateAgentRule } from '../config/types.js';
import type { Principal } from '../pipeline/stages.js';
import { agentForCertificate, type CertificateIdentity } from './certificate.js';
import { confirmationOf } from './confirmation.js';

/** What a verified token says about its caller; cached with the token, request-independent. */
export interface TokenIdentity {
  issuer: string;
  agent: string;
  user?: string;
  tenant?: string;
  scopes: string[];
  tokenId?: string;
  actors: string[];
  /** RFC 8705 `cnf.x5t#S256`: the certificate this token is bound to (see confirmation.ts). */
  boundThumbprint?: string;
  /** RFC 9449 `cnf.jkt`: the key DPoP proofs must be signed with. */
  boundKey?: string;
  /** Epoch ms after which the token is no longer valid. */
  expiresAt: number;
}

/**
 * Reads the caller out of verified claims. The agent is the current actor of an RFC 8693
 * `act` chain when there is one (the token's subject is then who it acts for), else the
 * configured agent claim (`client_id`), else `azp`. The user is the configured user claim
 * (`sub`) when it names someone other than the agent — and, if `claims.human` is set, only
 * when that claim is truthy — so agent-only tokens (client credentials: `sub` = client id)
 * carry no user. A `cnf` toolgate cannot check throws ERR_TOKEN_CNF (confirmation.ts).
 */
export function tokenIdentity(claims: JWTPayload, config: Pick<AuthConfig, 'claims'>, nowMs: number, cacheMs?: number): TokenIdentity {
  const actors = actChain(claims.act);
  const clientAgent = str(claims[config.claims.agent]) ?? str(claims.client_id) ?? str(claims.azp) ?? '';
  const agent = actors[0] ?? clientAgent;
  const candidate = str(claims[config.claims.user]);
  const humanOk = config.claims.human === undefined || Boolean(claims[config.claims.human]);
  const user = candidate !== undefined && candidate !== agent && candidate !== clientAgent && humanOk ? candidate : undefined;
  const tenant = str(claims[config.claims.tenant]);
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : nowMs + (cacheMs ?? 0);
  return {
    issuer: String(claims.iss),
    agent,
    ...(user === undefined ? {} : { user }),
    ...(tenant === undefined ? {} : { tenant }),
    scopes: scopesOf(claims),
    ...(typeof claims.jti === 'string' ? { tokenId: claims.jti } : {}),
    actors,
    ...confirmationOf(claims.cnf),
    expiresAt: cacheMs === undefined ? exp : Math.min(exp, nowMs + cacheMs),
  };
}

/** The principal for one request: token identity and/or certificate identity. */
export function principalFor(token: TokenIdentity | undefined, cert: CertificateIdentity | undefined, rules: CertificateAgentRule[]): Principal {
  const certAgent = cert ? agentForCertificate(cert, rules) : undefined;
  const agent = token?.agent ?? certAgent ?? 'anonymous';
  // Stable across token rotation, and covering every identity claim policy reads (scopes are
  // re-checked on every request, so a stepped-up or narrowed token keeps its session): who
  // issued, which agent, which user, which tenant, which certificate, and for a DPoP-bound token
  // which key (a session opened with one proof key is not usable with another).
  const parts = [token?.issuer, agent, token?.user, token?.tenant, cert?.thumbprint];
  if (token?.boundKey !== undefined) parts.push(`jkt:${token.boundKey}`);
  const bindingKey = parts.map(bindingPart).join('|');
  return {
    agent,
    ...(token?.user === undefined ? {} : { user: token.user }),
    ...(token?.tenant === undefined ? {} : { tenant: token.tenant }),
    scopes: token?.scopes ?? [],
    ...(token?.tokenId === undefined ? {} : { tokenId: token.tokenId }),
    bindingKey,
    anonymous: false,
    ...(token ? { issuer: token.issuer } : {}),
    ...(token && token.actors.length > 0 ? { actors: token.actors } : {}),
    ...(cert ? { certificate: cert } : {}),
  };
}

const ESCAPED: Record<string, string> = { '%': '%25', '|': '%7C', '-': '%2D' };

/**
 * One part of a binding key: '-' when absent. A claim holding the separator or the escape
 * character (or exactly '-') is percent-escaped, so that no two different principals' keys are
 * equal; the common claim is kept as it is, readable in the audit log.
 */
function bindingPart(part: string | undefined): string {
  if (part === undefined) return '-';
  return part === '-' || part.includes('|') || part.includes('%') ? part.replace(/[%|-]/g, (c) => ESCAPED[c]!) : part;
}

/** `act: { sub: A, act: { sub: B } }` → [A, B]: the current actor first. */
function actChain(act: unknown): string[] {
  const out: string[] = [];
  let cur = act as Record<string, unknown> | undefined;
  while (cur && typeof cur === 'object' && out.length < 16) {
    const id = str(cur.sub) ?? str(cur.client_id);
    if (id) out.push(id);
    cur = cur.act as Record<string, unknown> | undefined;
  }
  return out;
}

function scopesOf(claims: JWTPayload): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.filter((s): s is string => typeof s === 'string');
  return [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
