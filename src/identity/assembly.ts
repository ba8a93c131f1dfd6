import type { AuthConfig, GatewayConfig } from '../config/types.js';
import type { AuditSink, IdentityStage, ServerAccess } from '../pipeline/stages.js';
import { BearerAuthenticator } from './authenticator.js';
import { type DevIssuerFile, devTrustedIssuer, loadOrCreateDevIssuer, writeDevIssuer } from './dev-issuer.js';
import { DPOP_DEFAULTS } from './dpop.js';
import type { TrustedIssuer } from './jwt.js';
import { keySourceFor } from './key-source.js';
import { ProtectedResource } from './protected-resource.js';
import { allBaselineScopes, createServerAccess } from './server-access.js';

/** The identity layer as the gateway wires it: the stage, server access, the public documents. */
export interface IdentityAssembly {
  /** Absent when nothing is configured: the gateway keeps its anonymous stage. */
  identity?: IdentityStage;
  serverAccess: ServerAccess;
  resource?: ProtectedResource;
  /** Called once the listener is up with the endpoint's URL (fixes the resource URI). */
  bind(endpointUrl: string): void;
  /** Public documents by request path: RFC 9728 metadata, the development issuer's JWKS. */
  document(path: string, listenerPath: string): unknown;
}

export const DEV_ISSUER_JWKS_PATH = '/.well-known/toolgate-dev-issuer/jwks.json';

/**
 * Builds the identity stage from `auth:` and `listener.tls`. With neither (or `auth.mode: none`
 * and no client certificates), the gateway stays anonymous, exactly as before this layer.
 */
export async function assembleIdentity(config: GatewayConfig, audit: AuditSink): Promise<IdentityAssembly> {
  const resourceHolder: { resource?: ProtectedResource } = {};
  const serverAccess = createServerAccess(config.upstreams, () => resourceHolder.resource?.metadataUrl ?? '');
  const tls = config.listener.tls;
  const clientCerts = tls !== undefined && tls.clientCertificates !== 'off';
  const auth = config.auth;
  if (!auth && !clientCerts) return { serverAccess, bind() {}, document: () => undefined };

  const effective: AuthConfig = auth ?? certificateOnly(config);
  const issuers: TrustedIssuer[] = effective.issuers.map((i) => ({ config: i, keys: keySourceFor(i, { cooldownMs: effective.jwksRefreshMinSeconds * 1000 }) }));
  let dev: DevIssuerFile | undefined;
  if (effective.devIssuer) {
    dev = await loadOrCreateDevIssuer(effective.devIssuerFile);
    issuers.push(devTrustedIssuer(dev));
  }
  const baseline = allBaselineScopes(config.upstreams);
  const resource = new ProtectedResource({
    ...(effective.resource === undefined ? {} : { resource: effective.resource }),
    authorizationServers: effective.issuers.map((i) => i.issuer),
    // A 401 asks for the baseline scopes (enough to see each upstream); the metadata lists every
    // scope, including those only some tools need (a 403 insufficient_scope names them).
    scopesSupported: [...new Set([...baseline, ...(effective.scopesSupported ?? [])])],
    challengeScopes: baseline,
    certificateBound: clientCerts,
    dpopAlgorithms: (effective.dpop ?? DPOP_DEFAULTS).algorithms,
  });
  resourceHolder.resource = resource;
  const identity = new BearerAuthenticator({ config: effective, issuers, resource, certificateRules: tls?.agents ?? [], audit });
  return {
    identity,
    serverAccess,
    resource,
    bind(endpointUrl) {
      resource.bind(endpointUrl);
      identity.bindEndpoint(endpointUrl);
      // The token command reads the audience from the file, so tokens it signs fit this gateway.
      if (dev && dev.audience !== resource.resource) writeDevIssuer(effective.devIssuerFile, { ...dev, audience: resource.resource });
    },
    document(path, listenerPath) {
      if (effective.mode === 'oauth' && resource.paths(listenerPath).includes(path)) return resource.document();
      if (dev && path === DEV_ISSUER_JWKS_PATH) return { keys: [dev.publicJwk] };
      return undefined;
    },
  };
}

/**
 * Why this gateway must not start, or undefined. Listening beyond loopback without any
 * authentication is refused unless the config says so explicitly (`auth: { mode: none }`).
 */
export function unsafeWithoutAuth(config: GatewayConfig, identityInjected: boolean): string | undefined {
  if (identityInjected || config.auth !== undefined || isLoopback(config.listener.host)) return undefined;
  return `listener.host ${config.listener.host} is reachable beyond this machine and there is no auth: section; configure auth.issuers, or write "auth: { mode: none }" to run without authentication on purpose`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** mTLS without `auth:`: the certificate alone names the caller. */
function certificateOnly(config: GatewayConfig): AuthConfig {
  return {
    mode: 'none',
    issuers: [],
    tokenTypes: [],
    clockSkewSeconds: 0,
    maxTokenLifetimeSeconds: 0,
    requiredClaims: [],
    claims: { agent: 'client_id', user: 'sub', tenant: 'tenant' },
    requireCertTokenAgreement: false,
    maxTokenBytes: 8192,
    jwksRefreshMinSeconds: 30,
    cacheMaxEntries: 0,
    devIssuer: false,
    devIssuerFile: `${config.source}.dev-issuer.json`,
  };
}
