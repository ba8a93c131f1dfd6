import type { AuditSettings } from '../audit/config.js';
import type { PolicySettings } from '../policy/settings.js';
import type { AdminSettings } from './admin.js';
import type { LimitsConfig } from './limits.js';
import type { MetricsSettings } from './metrics.js';
import type { TraceConfig } from './trace.js';
/**
 * The validated gateway configuration. Produced only by src/config/load.ts; every other module
 * receives this shape and never reads YAML or the environment itself.
 */
export interface GatewayConfig {
  /** Absolute path of the file this came from (for messages and relative paths). */
  source: string;
  listener: ListenerConfig;
  /** Absent when the file has no `limits:` section: the gateway then uses LIMIT_DEFAULTS (src/config/limits.ts). */
  limits?: LimitsConfig;
  /** Absent when the file has no `trace:` section: the gateway then uses TRACE_DEFAULTS (src/config/trace.ts). */
  trace?: TraceConfig;
  upstreams: UpstreamConfig[];
  /** Absent when the file has no `auth:` section. */
  auth?: AuthConfig;
  /** Absent when the file has no `credentials:` section and no upstream asks for minted tokens. */
  credentials?: CredentialsConfig;
  /** Absent when the file has no `policy:` section (every call is then allowed, as before). */
  policy?: PolicySettings;
  /** Absent when the file has no `audit:` section: the gateway then uses the defaults (SQLite under its state folder). */
  audit?: AuditSettings;
  /** Absent when the file has no `admin:` section: no admin endpoint, the probes answer status only. */
  admin?: AdminSettings;
  /** Absent when the file has no `metrics:` section: metrics are kept (METRICS_DEFAULTS). */
  metrics?: MetricsSettings;
}

export interface ListenerConfig {
  host: string; // default 127.0.0.1
  port: number; // default 7420
  path: string; // default /mcp
  /** Public base URL used in metadata; default http://host:port */
  publicUrl?: string;
  /** Allowed Origin header values; default: the listener's own origins on loopback. */
  allowedOrigins: string[];
  /** Allowed Host header values (host[:port]); default: loopback names with the port. */
  allowedHosts: string[];
  /** Request body limit in bytes; default 4 MiB. */
  maxBodyBytes: number;
  /** Idle session expiry in seconds; default 3600. */
  sessionIdleSeconds: number;
  /** Timeouts and connection caps of the front door (`listener.limits`). */
  limits: ListenerLimits;
  /** Serve HTTPS (and optionally mutual TLS); absent: plain HTTP. See src/identity/README.md. */
  tls?: TlsConfig;
}

/** `listener.limits`; defaults in src/config/schema.ts, meaning in docs/config.md. */
export interface ListenerLimits {
  /** A request's headers must arrive within this long (answered 408 otherwise). */
  headersTimeoutMs: number;
  /** A whole request, headers and body, must arrive within this long (answered 408 otherwise). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed; 0: no limit. */
  maxRequestsPerSocket: number;
  /** Open connections in total; past it a new connection is answered 503 and closed. */
  maxConnections: number;
  /** Open connections from one remote address; past it a new one is answered 429 and closed. */
  maxConnectionsPerAddress: number;
  /** Body bytes of an unauthenticated request read (and discarded) before the connection is closed. */
  unauthenticatedBodyBytes: number;
}

/** `listener.tls`: the server certificate and what is asked of client certificates. */
export interface TlsConfig {
  /** PEM file paths, absolute after resolution. */
  cert: string;
  key: string;
  clientCa?: string;
  clientCertificates: 'off' | 'optional' | 'required';
  /** First matching rule names the agent a client certificate stands for. */
  agents: CertificateAgentRule[];
}

export interface CertificateAgentRule {
  agent: string;
  sanUri?: string;
  sanDns?: string;
  subject?: string;
  thumbprint?: string;
}

/** `auth:`: who may call, as an OAuth 2.1 resource server. Absent: anonymous (loopback only). */
export interface AuthConfig {
  mode: 'oauth' | 'none';
  /** The canonical resource URI tokens must name in `aud` (RFC 8707); default: the endpoint URL. */
  resource?: string;
  issuers: IssuerConfig[];
  /** Accepted JWT `typ` values; empty accepts any. Default ['at+jwt']. */
  tokenTypes: string[];
  clockSkewSeconds: number;
  maxTokenLifetimeSeconds: number;
  /** Claims every JWT must carry besides iss/aud/exp; `client_id` or `azp` is always required. */
  requiredClaims: string[];
  claims: { agent: string; user: string; tenant: string; human?: string };
  requireCertTokenAgreement: boolean;
  maxTokenBytes: number;
  /** Least time between two JWKS fetches of one issuer (unknown `kid` refreshes, rate limited). */
  jwksRefreshMinSeconds: number;
  cacheMaxEntries: number;
  /** Scopes listed in the protected-resource metadata besides every upstream's baseline scopes (those policies check). */
  scopesSupported?: string[];
  /** Serve and trust the development issuer (`toolgate token`); never on unless asked. */
  devIssuer: boolean;
  /** Where the development issuer's key lives (default .toolgate/dev-issuer.json next to the config). */
  devIssuerFile: string;
  /** Absent: the defaults (`DPOP_DEFAULTS` in src/identity/dpop.ts, the same as the schema's). */
  dpop?: DpopConfig;
}

/** `auth.dpop`: DPoP proof checks (RFC 9449). */
export interface DpopConfig {
  /** Accepted proof signature algorithms (asymmetric only). */
  algorithms: string[];
  /** A proof's `iat` may be this far in the past… */
  maxAgeSeconds: number;
  /** …and this far in the future. */
  maxFutureSeconds: number;
  /** `required`: every proof must carry a current server nonce (`DPoP-Nonce`). */
  nonce: 'off' | 'required';
  /** A nonce is current for this long, then accepted one more period as the previous one. */
  nonceRotationSeconds: number;
  /** Proof `jti`s remembered within the window; past this many, new proofs are refused (503). */
  replayCacheMaxEntries: number;
}

export interface IssuerConfig {
  issuer: string;
  /** JWKS location; absent: discovered from the issuer's metadata (RFC 8414, then OIDC). */
  jwksUri?: string;
  /** A local JWKS file instead of a URL. */
  jwksFile?: string;
  /** Accepted signature algorithms (asymmetric only). */
  algorithms: string[];
  /** RFC 7662 introspection for opaque tokens. */
  introspection?: { url: string; clientId: string; clientSecret: string; cacheSeconds: number };
}

export type UpstreamTransportConfig =
  | { type: 'http'; url: string; headers: Record<string, string> }
  | { type: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd?: string };

export interface UpstreamConfig {
  id: string; // [a-z0-9][a-z0-9_-]*
  transport: UpstreamTransportConfig;
  /** Prefix for tool and prompt names; default `${id}__`; '' for none. */
  prefix: string;
  /** Protocol era to speak with this upstream: auto (try 2026-07-28, fall back), or a fixed version. */
  protocol: 'auto' | '2025-06-18' | '2025-11-25' | '2026-07-28';
  timeouts: {
    connectMs: number; // default 10000
    requestMs: number; // default 60000
  };
  /** Baseline scopes a caller needs to see or call anything of this upstream; absent: none. */
  scopes?: string[];
  /** How each call to this upstream is authenticated (src/credentials); absent: none (no credential). */
  credential?: UpstreamCredentialConfig;
  /** Client certificate and CA for HTTPS upstreams (mutual TLS); PEM file paths, absolute. */
  tls?: UpstreamTlsConfig;
}

/** `credentials:`: the per-call token issuer (src/credentials). Absent: no token is minted. */
export interface CredentialsConfig {
  /** `iss` of every per-call token; default the listener's public URL, else "toolgate". */
  issuer: string;
  /** This gateway instance, named in the token's nested `act`; default toolgate@<hostname>. */
  instance: string;
  algorithm: 'Ed25519' | 'ES256';
  keys: { source: 'file'; path: string } | { source: 'env'; variable: string } | { source: 'ephemeral' };
  /** Default per-call token lifetime, seconds (30). */
  tokenLifetimeSeconds: number;
  /** No upstream may ask for longer, seconds (300). */
  maxLifetimeSeconds: number;
  /** How long a rotated-out key stays in the JWKS, seconds (3600). */
  rotationOverlapSeconds: number;
}

/** Per-upstream `credential:`. `scopes` maps the upstream's tool name (or "*") to the scopes it needs. */
export type UpstreamCredentialConfig =
  | { mode: 'none' }
  | { mode: 'minted'; audience: string; lifetimeSeconds: number; scopes: Record<string, string[]> }
  | {
      mode: 'token_exchange';
      tokenEndpoint: string;
      clientId: string;
      clientSecret: string;
      /** RFC 8707 resource sent in the exchange; default the upstream's URL. */
      resource: string;
      audience?: string;
      scopes: Record<string, string[]>;
    }
  | { mode: 'static'; header: string; value: string };

export interface UpstreamTlsConfig {
  cert?: string;
  key?: string;
  ca?: string;
}
