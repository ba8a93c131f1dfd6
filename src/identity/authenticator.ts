import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthConfig, CertificateAgentRule } from '../config/types.js';
import type { AuditSink, IdentityStage, Principal, Rejection } from '../pipeline/stages.js';
import { type PresentedCredentials, presentedCredentials } from './authorization-header.js';
import { agentForCertificate, type CertificateIdentity, presentedCertificate } from './certificate.js';
import { rejectionFor } from './challenge.js';
import { DPOP_DEFAULTS, DpopVerifier } from './dpop.js';
import { AuthenticationError } from './errors.js';
import { introspect } from './introspection.js';
import { looksLikeJwt, type TrustedIssuer, verifyJwt } from './jwt.js';
import { principalFor, type TokenIdentity, tokenIdentity } from './principal.js';
import type { ProtectedResource } from './protected-resource.js';
import { VerifiedTokenCache } from './token-cache.js';

export interface AuthenticatorOptions {
  /** `auth:` as configured; `mode: none` authenticates by client certificate alone (or not at all). */
  config: AuthConfig;
  issuers: TrustedIssuer[];
  resource: ProtectedResource;
  /** Certificate → agent rules from `listener.tls.agents`. */
  certificateRules: CertificateAgentRule[];
  audit: AuditSink;
  now?: () => number;
}

/**
 * The identity stage of an OAuth 2.1 resource server with optional mutual TLS. Every request
 * (POST, GET, DELETE, every era) comes through here; a session never authenticates by itself.
 *
 * Order: token in the URL (400) → client certificate (refused if presented and not verified)
 * → one `Authorization` header (400 for two) → token from it, scheme `Bearer` or `DPoP` (size,
 * then cache by SHA-256, then JWT or introspection; a `cnf` it cannot check is refused) →
 * certificate binding (RFC 8705) and certificate/token agreement → DPoP proof (RFC 9449) when
 * the token is DPoP-bound or sent with the DPoP scheme → Principal.
 * Every failure is recorded in full with the audit sink (kind `auth`); the client is told a
 * fixed short description.
 *
 * @example
 * const stage = new BearerAuthenticator({ config, issuers, resource, certificateRules: [], audit });
 * const who = await stage.authenticate(req);
 * if (isRejection(who)) reply(res, who.status, { error: who.rpcError }, who.headers);
 * else console.log(who.agent, who.user, who.scopes);
 */
export class BearerAuthenticator implements IdentityStage {
  private readonly issuers: Map<string, TrustedIssuer>;
  private readonly cache: VerifiedTokenCache<TokenIdentity>;
  private readonly now: () => number;
  private readonly dpop: DpopVerifier;
  private endpointBound = false;

  constructor(private readonly options: AuthenticatorOptions) {
    this.issuers = new Map(options.issuers.map((i) => [i.config.issuer, i]));
    this.now = options.now ?? Date.now;
    this.cache = new VerifiedTokenCache(options.config.cacheMaxEntries, this.now);
    this.dpop = new DpopVerifier(options.config.dpop ?? DPOP_DEFAULTS, this.now);
  }

  /**
   * The endpoint's public URL, which DPoP proofs must name in `htu`; called once the listener
   * is up. Until then (a stage built by hand) the resource URI stands in.
   */
  bindEndpoint(endpointUrl: string): void {
    this.dpop.bind(endpointUrl);
    this.endpointBound = true;
  }

  async authenticate(req: IncomingMessage): Promise<Principal | Rejection> {
    const credentials = presentedCredentials(req);
    try {
      return await this.principal(req, credentials);
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      const rejection = rejectionFor(err, {
        resourceMetadata: this.options.resource.metadataUrl,
        scope: this.options.resource.challengeScopes,
        dpopScheme: credentials.scheme === 'dpop',
        dpopAlgs: this.dpop.algs,
        ...(err.code === 'ERR_DPOP_NONCE' ? { dpopNonce: this.dpop.nonce } : {}),
      });
      const recorded = this.options.audit.record({
        kind: 'auth',
        at: new Date(this.now()),
        requestId: randomUUID(),
        ...(typeof req.headers['mcp-session-id'] === 'string' ? { sessionId: req.headers['mcp-session-id'] } : {}),
        detail: { outcome: 'rejected', code: err.code, reason: err.reason, status: rejection.status, method: req.method, remote: req.socket.remoteAddress },
      });
      // The refusal stands whether or not its record is written: a failing audit store must not
      // turn a 401 into a 500 (the sink logs the record it could not write).
      await recorded.catch(() => undefined);
      return rejection;
    }
  }

  private async principal(req: IncomingMessage, credentials: PresentedCredentials): Promise<Principal> {
    const query = (req.url ?? '').split('?')[1];
    if (query !== undefined && new URLSearchParams(query).has('access_token')) {
      throw new AuthenticationError('ERR_TOKEN_IN_QUERY', 'access_token in the query string (RFC 6750 §2.3 is not supported: URLs end up in logs)');
    }
    const presented = presentedCertificate(req.socket);
    if (presented.kind === 'unverified') {
      throw new AuthenticationError(
        'ERR_CERT_REJECTED',
        `client certificate ${presented.identity.subject} (x5t#S256 ${presented.identity.thumbprint}) not verified: ${presented.error}`,
      );
    }
    const cert = presented.kind === 'verified' ? presented.identity : undefined;
    const rules = this.options.certificateRules;
    if (this.options.config.mode === 'none') {
      return cert ? principalFor(undefined, cert, rules) : { agent: 'anonymous', scopes: [], bindingKey: 'anonymous', anonymous: true };
    }

    if (credentials.authorizationLines > 1) {
      throw new AuthenticationError('ERR_AUTHORIZATION_DUPLICATE', `${credentials.authorizationLines} Authorization headers in one request`);
    }
    const { scheme, token } = credentials;
    const header = req.headers.authorization;
    if (scheme === undefined) {
      throw new AuthenticationError(
        'ERR_TOKEN_MISSING',
        header === undefined ? 'no Authorization header' : `Authorization header without a Bearer token (scheme ${JSON.stringify(header.split(' ')[0])})`,
      );
    }
    if (token === undefined) {
      throw new AuthenticationError('ERR_TOKEN_MALFORMED', `Authorization: ${scheme === 'dpop' ? 'DPoP' : 'Bearer'} without a single token68 value`);
    }
    const maxBytes = this.options.config.maxTokenBytes;
    if (token.length > maxBytes) throw new AuthenticationError('ERR_TOKEN_TOO_LARGE', `token of ${token.length} bytes exceeds max_token_bytes ${maxBytes}`);
    const tokenHash = VerifiedTokenCache.keyOf(token);
    const identity = await this.verified(token, tokenHash);
    checkCertificate(identity, cert, this.options.config.requireCertTokenAgreement, cert ? agentForCertificate(cert, rules) : undefined);
    if (scheme === 'dpop' || identity.boundKey !== undefined) {
      // A DPoP-bound token is never downgraded to a bearer token.
      if (scheme === 'bearer') throw new AuthenticationError('ERR_DPOP_BOUND_AS_BEARER', `token bound to key cnf.jkt ${identity.boundKey} sent with the Bearer scheme`);
      if (credentials.proofLines > 1) throw new AuthenticationError('ERR_DPOP_PROOF_INVALID', `${credentials.proofLines} DPoP headers in one request`);
      if (credentials.proof !== undefined && credentials.proof.length > maxBytes) {
        throw new AuthenticationError('ERR_DPOP_PROOF_INVALID', `DPoP proof of ${credentials.proof.length} bytes exceeds max_token_bytes ${maxBytes}`);
      }
      if (!this.endpointBound) this.bindEndpoint(this.options.resource.resource);
      await this.dpop.verify(credentials.proof, { method: req.method ?? '', tokenHash, boundKey: identity.boundKey });
    }
    // The credential stage may exchange the caller's token (RFC 8693); it never leaves toolgate otherwise.
    return { ...principalFor(identity, cert, rules), subjectToken: token };
  }

  /** The token's identity, from the cache or by verification (then cached until `exp`). */
  private async verified(token: string, key: string): Promise<TokenIdentity> {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const now = this.now();
    let identity: TokenIdentity;
    if (looksLikeJwt(token)) {
      const c = this.options.config;
      const claims = await verifyJwt(token, this.issuers, {
        resource: this.options.resource.resource,
        tokenTypes: c.tokenTypes,
        clockSkewSeconds: c.clockSkewSeconds,
        maxTokenLifetimeSeconds: c.maxTokenLifetimeSeconds,
        requiredClaims: c.requiredClaims,
        now: this.now,
      });
      identity = tokenIdentity(claims, c, now);
    } else {
      const { claims, issuer } = await introspect(
        token,
        [...this.issuers.values()].map((i) => i.config),
        this.options.resource.resource,
        now,
      );
      identity = tokenIdentity(claims, this.options.config, now, issuer.introspection!.cacheSeconds * 1000);
    }
    this.cache.set(key, identity, identity.expiresAt);
    return identity;
  }
}

/** RFC 8705 binding and the configured certificate/token agreement; re-run on every request. */
function checkCertificate(token: TokenIdentity, cert: CertificateIdentity | undefined, requireAgreement: boolean, certAgent: string | undefined): void {
  if (token.boundThumbprint !== undefined && token.boundThumbprint !== cert?.thumbprint) {
    throw new AuthenticationError(
      'ERR_TOKEN_CERT_BINDING',
      `token is bound to certificate x5t#S256 ${token.boundThumbprint}; ${cert ? `presented ${cert.thumbprint} (${cert.subject})` : 'no client certificate presented'}`,
    );
  }
  if (requireAgreement && cert && certAgent !== token.agent) {
    throw new AuthenticationError('ERR_CERT_TOKEN_MISMATCH', `certificate names agent ${certAgent} (${cert.subject}), token names agent ${token.agent}`);
  }
}
