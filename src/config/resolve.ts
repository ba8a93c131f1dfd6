import { dirname, isAbsolute, resolve } from 'node:path';
import { resolveAudit } from '../audit/config.js';
import { resolveCredentials, upstreamCredentialKeys } from '../credentials/config.js';
import { resolvePolicy } from '../policy/config.js';
import { resolveAdmin } from './admin.js';
import { resolveLimits } from './limits.js';
import { resolveMetrics } from './metrics.js';
import type { ConfigFile } from './schema.js';
import { resolveTrace } from './trace.js';
import type { AuthConfig, GatewayConfig, ListenerConfig, TlsConfig, UpstreamConfig } from './types.js';

/**
 * Turns a validated file into the GatewayConfig the rest of the gateway reads: camelCase
 * names, defaults that depend on other keys, and paths made absolute against the config
 * file's folder (so the gateway behaves the same whatever directory it was started from).
 *
 * @param source absolute path of the config file
 */
export function resolveConfig(file: ConfigFile, source: string): GatewayConfig {
  const folder = dirname(source);
  const credentials = resolveCredentials(file, folder);
  return {
    source,
    listener: resolveListener(file.listener, folder),
    upstreams: file.upstreams.map((upstream) => ({ ...resolveUpstream(upstream, folder), ...upstreamCredentialKeys(upstream, credentials, folder) })),
    ...(credentials === undefined ? {} : { credentials }),
    ...(file.auth === undefined ? {} : { auth: resolveAuth(file.auth, folder) }),
    ...(file.policy === undefined ? {} : { policy: resolvePolicy(file.policy, folder) }),
    ...(file.audit === undefined ? {} : { audit: resolveAudit(file.audit, folder) }),
    ...(file.limits === undefined ? {} : { limits: resolveLimits(file.limits) }),
    ...(file.trace === undefined ? {} : { trace: resolveTrace(file.trace) }),
    ...(file.admin === undefined ? {} : { admin: resolveAdmin(file.admin, folder) }),
    ...(file.metrics === undefined ? {} : { metrics: resolveMetrics(file.metrics) }),
  };
}

function resolveAuth(auth: NonNullable<ConfigFile['auth']>, folder: string): AuthConfig {
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(folder, p));
  return {
    mode: auth.mode,
    ...(auth.resource === undefined ? {} : { resource: auth.resource }),
    issuers: auth.issuers.map((i) => ({
      issuer: i.issuer,
      ...(i.jwks_uri === undefined ? {} : { jwksUri: i.jwks_uri }),
      ...(i.jwks_file === undefined ? {} : { jwksFile: path(i.jwks_file) }),
      algorithms: i.algorithms,
      ...(i.introspection === undefined
        ? {}
        : {
            introspection: {
              url: i.introspection.url,
              clientId: i.introspection.client_id,
              clientSecret: i.introspection.client_secret,
              cacheSeconds: i.introspection.cache_seconds,
            },
          }),
    })),
    tokenTypes: auth.token_types,
    clockSkewSeconds: auth.clock_skew_seconds,
    maxTokenLifetimeSeconds: auth.max_token_lifetime_seconds,
    requiredClaims: auth.required_claims,
    claims: { agent: auth.claims.agent, user: auth.claims.user, tenant: auth.claims.tenant, ...(auth.claims.human === undefined ? {} : { human: auth.claims.human }) },
    requireCertTokenAgreement: auth.require_cert_token_agreement,
    maxTokenBytes: auth.max_token_bytes,
    jwksRefreshMinSeconds: auth.jwks_refresh_min_seconds,
    cacheMaxEntries: auth.cache_max_entries,
    ...(auth.scopes_supported === undefined ? {} : { scopesSupported: auth.scopes_supported }),
    devIssuer: auth.dev_issuer,
    devIssuerFile: path(auth.dev_issuer_file),
    ...(auth.dpop === undefined
      ? {}
      : {
          dpop: {
            algorithms: auth.dpop.algorithms,
            maxAgeSeconds: auth.dpop.max_age_seconds,
            maxFutureSeconds: auth.dpop.max_future_seconds,
            nonce: auth.dpop.nonce,
            nonceRotationSeconds: auth.dpop.nonce_rotation_seconds,
            replayCacheMaxEntries: auth.dpop.replay_cache_max_entries,
          },
        }),
  };
}

function resolveTls(tls: NonNullable<ConfigFile['listener']['tls']>, folder: string): TlsConfig {
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(folder, p));
  return {
    cert: path(tls.cert),
    key: path(tls.key),
    ...(tls.client_ca === undefined ? {} : { clientCa: path(tls.client_ca) }),
    clientCertificates: tls.client_certificates,
    agents: tls.agents.map((r) => ({
      agent: r.agent,
      ...(r.san_uri === undefined ? {} : { sanUri: r.san_uri }),
      ...(r.san_dns === undefined ? {} : { sanDns: r.san_dns }),
      ...(r.subject === undefined ? {} : { subject: r.subject }),
      ...(r.thumbprint === undefined ? {} : { thumbprint: r.thumbprint }),
    })),
  };
}

function resolveListener(listener: ConfigFile['listener'], folder: string): ListenerConfig {
  const { host, port } = listener;
  const publicUrl = listener.public_url === undefined ? undefined : new URL(listener.public_url);

  // DNS-rebinding protection: by default only loopback names, the configured host and the
  // public URL's host may appear in Host; only the matching origins in Origin.
  const defaultHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${bracketed(host)}:${port}`];
  if (publicUrl !== undefined) defaultHosts.push(publicUrl.host);
  const defaultOrigins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
  if (publicUrl !== undefined) defaultOrigins.push(publicUrl.origin);
  if (listener.tls !== undefined) defaultOrigins.push(`https://127.0.0.1:${port}`, `https://localhost:${port}`, `https://[::1]:${port}`);

  return {
    host,
    port,
    path: listener.path,
    ...(listener.public_url === undefined ? {} : { publicUrl: listener.public_url }),
    allowedOrigins: unique(listener.allowed_origins ?? defaultOrigins),
    allowedHosts: unique((listener.allowed_hosts ?? defaultHosts).map((entry) => entry.toLowerCase())),
    maxBodyBytes: listener.max_body_bytes,
    sessionIdleSeconds: listener.session_idle_seconds,
    limits: {
      headersTimeoutMs: listener.limits.headers_timeout_ms,
      requestTimeoutMs: listener.limits.request_timeout_ms,
      keepAliveTimeoutMs: listener.limits.keep_alive_timeout_ms,
      maxRequestsPerSocket: listener.limits.max_requests_per_socket,
      maxConnections: listener.limits.max_connections,
      maxConnectionsPerAddress: listener.limits.max_connections_per_address,
      unauthenticatedBodyBytes: listener.limits.unauthenticated_body_bytes,
    },
    ...(listener.tls === undefined ? {} : { tls: resolveTls(listener.tls, folder) }),
  };
}

function resolveUpstream(upstream: ConfigFile['upstreams'][number], folder: string): UpstreamConfig {
  return {
    id: upstream.id,
    transport:
      upstream.url !== undefined
        ? { type: 'http', url: upstream.url, headers: upstream.headers }
        : {
            type: 'stdio',
            // checks.ts guarantees command is set when url is not.
            command: resolveCommand(upstream.command!, folder),
            args: upstream.args,
            env: upstream.env,
            ...(upstream.cwd === undefined ? {} : { cwd: isAbsolute(upstream.cwd) ? upstream.cwd : resolve(folder, upstream.cwd) }),
          },
    prefix: upstream.prefix ?? `${upstream.id}__`,
    protocol: upstream.protocol,
    timeouts: { connectMs: upstream.timeouts.connect_ms, requestMs: upstream.timeouts.request_ms },
    ...(upstream.scopes === undefined ? {} : { scopes: upstream.scopes }),
  };
}

/** `./server` and `../bin/server` are files next to the config; a bare name is looked up on PATH. */
function resolveCommand(command: string, folder: string): string {
  return command.startsWith('./') || command.startsWith('../') ? resolve(folder, command) : command;
}

/** An IPv6 address in a Host header is written in brackets. */
function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
