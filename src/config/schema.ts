import { z } from 'zod';
import { auditSection } from '../audit/config.js';
import { policySection } from '../policy/config.js';
import { adminSection } from './admin.js';
import { limitsSection } from './limits.js';
import { metricsSection } from './metrics.js';
import { traceSection } from './trace.js';

/**
 * The config file as written (snake_case keys), after `${VAR}` interpolation. Every object is
 * strict so a misspelt key is an error rather than a silently ignored setting. Defaults that
 * depend on other keys (allowed hosts and origins, the tool prefix) and relative paths are
 * filled in by resolve.ts; rules across keys (exactly one of url/command, unique ids) live in
 * checks.ts so they are reported even when other keys are wrong too.
 *
 * Each schema carries the "expected …" text shown to the user; issues.ts adds the key path and
 * what was found.
 */

export const PROTOCOLS = ['auto', '2025-06-18', '2025-11-25', '2026-07-28'] as const;

const UPSTREAM_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** MCP tool names are limited to letters, digits, `_`, `-` and `.`; a prefix must keep them so. */
const PREFIX = /^[A-Za-z0-9_.-]{0,64}$/;
/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LISTEN_HOST = /^[A-Za-z0-9.:%_-]+$/;
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$/;
const URL_PATH = /^\/[^\s?#]*$/;
const DIGITS = /^[0-9]+$/;

/** `port:` with nothing after it reads as null; treat it as left out, so commenting out a value works. */
const emptyAsMissing = (value: unknown): unknown => (value === null ? undefined : value);

function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess(emptyAsMissing, schema.optional());
}

/** The default is parsed like written input, so nested defaults apply too. */
function withDefault<T extends z.ZodType>(schema: T, value: z.input<T>) {
  return z.preprocess(emptyAsMissing, schema.prefault(value as never));
}

/** An integer in [min, max]. A string of digits counts, since `${PORT}` always yields a string. */
function integer(min: number, max: number, expected: string) {
  const number = z.int({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
  return z.preprocess((value) => (typeof value === 'string' && DIGITS.test(value) ? Number(value) : value), number);
}

const positiveInteger = integer(1, Number.MAX_SAFE_INTEGER, 'expected a positive integer');

function matching(pattern: RegExp, expected: string) {
  return z.string({ error: expected }).regex(pattern, { error: expected });
}

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function isHttpUrl(text: string): boolean {
  const url = parsedUrl(text);
  return url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:');
}

function httpUrl(expected: string) {
  return z.string({ error: expected }).refine(isHttpUrl, { error: expected });
}

/** `https://app.example.com` — what browsers send in `Origin`: scheme, host, port, nothing else. */
function isOrigin(text: string): boolean {
  const url = parsedUrl(text);
  return url !== undefined && isHttpUrl(text) && url.pathname === '/' && !/[?#]/.test(text) && url.username === '' && url.password === '';
}

/** A string; YAML numbers and booleans are refused so nothing is silently reformatted. */
const text = z.string({ error: 'expected a string (put numbers and true/false in quotes)' });
const nonEmpty = (expected: string) => z.string({ error: expected }).min(1, { error: expected });

/** RFC 6749 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** Asymmetric JWS algorithms only: `none` and HS* are never accepted for an issuer's tokens. */
const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

const certificateAgentRule = z.strictObject(
  {
    agent: nonEmpty('expected the agent id this certificate stands for'),
    san_uri: optional(nonEmpty('expected a SAN URI, like spiffe://acme.example/agent/sales-bot')),
    san_dns: optional(nonEmpty('expected a SAN DNS name')),
    subject: optional(nonEmpty('expected a subject DN, like CN=sales-bot,O=Acme')),
    thumbprint: optional(matching(/^[A-Za-z0-9_-]{43}$/, 'expected a base64url SHA-256 certificate thumbprint (43 characters)')),
  },
  { error: 'expected a rule with agent and one of san_uri, san_dns, subject, thumbprint' },
);

const tls = z.strictObject(
  {
    cert: nonEmpty('expected the path of the server certificate (PEM)'),
    key: nonEmpty('expected the path of the server private key (PEM)'),
    client_ca: optional(nonEmpty('expected the path of the CA bundle client certificates must chain to (PEM)')),
    client_certificates: withDefault(z.enum(['off', 'optional', 'required'], { error: 'expected off, optional or required' }), 'off'),
    agents: withDefault(z.array(certificateAgentRule, { error: 'expected a list of certificate → agent rules' }), []),
  },
  { error: 'expected a mapping with cert, key and optionally client_ca, client_certificates, agents' },
);

const issuer = z.strictObject(
  {
    issuer: httpUrl('expected the issuer identifier, an http:// or https:// URL exactly as tokens carry it in iss'),
    jwks_uri: optional(httpUrl('expected an http:// or https:// URL')),
    jwks_file: optional(nonEmpty('expected the path of a JWKS file')),
    algorithms: withDefault(
      z
        .array(z.enum(JWS_ALGORITHMS, { error: `expected one of ${JWS_ALGORITHMS.join(', ')} (none and HS* are never accepted)` }), { error: 'expected a list of algorithms' })
        .min(1, { error: 'expected at least one algorithm' }),
      ['RS256', 'PS256', 'ES256', 'EdDSA'],
    ),
    introspection: optional(
      z.strictObject(
        {
          url: httpUrl('expected the introspection endpoint, an http:// or https:// URL'),
          client_id: nonEmpty('expected the client id toolgate authenticates with'),
          client_secret: nonEmpty('expected the client secret (use ${ENV})'),
          cache_seconds: withDefault(integer(0, 300, 'expected 0 to 300 seconds'), 30),
        },
        { error: 'expected a mapping with url, client_id, client_secret' },
      ),
    ),
  },
  { error: 'expected a mapping with issuer and optionally jwks_uri, jwks_file, algorithms, introspection' },
);

/** `auth.dpop`: how DPoP proofs (RFC 9449) are checked; DPoP-bound tokens are always checked. */
const dpop = z.strictObject(
  {
    algorithms: withDefault(
      z
        .array(z.enum(JWS_ALGORITHMS, { error: `expected one of ${JWS_ALGORITHMS.join(', ')} (none and HS* are never accepted)` }), { error: 'expected a list of algorithms' })
        .min(1, { error: 'expected at least one algorithm' }),
      [...JWS_ALGORITHMS],
    ),
    max_age_seconds: withDefault(integer(1, 600, 'expected 1 to 600 seconds'), 60),
    max_future_seconds: withDefault(integer(0, 60, 'expected 0 to 60 seconds'), 5),
    nonce: withDefault(z.enum(['off', 'required'], { error: 'expected off or required' }), 'off'),
    nonce_rotation_seconds: withDefault(integer(10, 86_400, 'expected 10 to 86400 seconds'), 300),
    replay_cache_max_entries: withDefault(integer(1000, 10_000_000, 'expected 1000 to 10000000'), 100_000),
  },
  { error: 'expected a mapping with algorithms, max_age_seconds, max_future_seconds, nonce, nonce_rotation_seconds, replay_cache_max_entries' },
);

const auth = z.strictObject(
  {
    mode: withDefault(z.enum(['oauth', 'none'], { error: 'expected oauth or none' }), 'oauth'),
    resource: optional(httpUrl('expected the canonical resource URI of this endpoint, like https://gw.example.com/mcp')),
    issuers: withDefault(z.array(issuer, { error: 'expected a list of issuers' }), []),
    token_types: withDefault(z.array(nonEmpty('expected a JWT typ value'), { error: 'expected a list of typ values' }), ['at+jwt']),
    clock_skew_seconds: withDefault(integer(0, 300, 'expected 0 to 300 seconds'), 30),
    max_token_lifetime_seconds: withDefault(positiveInteger, 86_400),
    required_claims: withDefault(z.array(nonEmpty('expected a claim name'), { error: 'expected a list of claim names' }), ['sub', 'jti']),
    claims: withDefault(
      z.strictObject(
        {
          agent: withDefault(nonEmpty('expected a claim name'), 'client_id'),
          user: withDefault(nonEmpty('expected a claim name'), 'sub'),
          tenant: withDefault(nonEmpty('expected a claim name'), 'tenant'),
          human: optional(nonEmpty('expected a claim name')),
        },
        { error: 'expected a mapping with agent, user, tenant, human' },
      ),
      {},
    ),
    require_cert_token_agreement: withDefault(z.boolean({ error: 'expected true or false' }), false),
    max_token_bytes: withDefault(integer(256, 16_384, 'expected 256 to 16384 bytes'), 8192),
    jwks_refresh_min_seconds: withDefault(integer(0, 3600, 'expected 0 to 3600 seconds'), 30),
    cache_max_entries: withDefault(integer(0, 1_000_000, 'expected 0 to 1000000'), 10_000),
    scopes_supported: optional(z.array(nonEmpty('expected a scope name'), { error: 'expected a list of scope names' })),
    dev_issuer: withDefault(z.boolean({ error: 'expected true or false' }), false),
    dev_issuer_file: withDefault(nonEmpty('expected a file path'), '.toolgate/dev-issuer.json'),
    dpop: optional(dpop),
  },
  { error: 'expected a mapping of auth settings (mode, resource, issuers, …)' },
);

/** `credentials:`: the per-call token issuer (src/credentials, docs/config.md "Per-call credentials"). */
const credentials = z.strictObject(
  {
    issuer: optional(nonEmpty('expected the issuer id put in every per-call token (iss), like https://gw.example.com')),
    instance: optional(nonEmpty('expected a name for this gateway instance')),
    algorithm: withDefault(z.enum(['Ed25519', 'ES256'], { error: 'expected Ed25519 or ES256' }), 'Ed25519'),
    keys: withDefault(
      z.strictObject(
        {
          file: optional(nonEmpty('expected the path of the signing key file (created when missing)')),
          env: optional(matching(ENV_NAME, 'expected an environment variable name')),
          ephemeral: optional(z.boolean({ error: 'expected true or false' })),
        },
        { error: 'expected a mapping with one of file, env, ephemeral' },
      ),
      {},
    ),
    token_lifetime_seconds: withDefault(integer(1, 3600, 'expected 1 to 3600 seconds'), 30),
    max_lifetime_seconds: withDefault(integer(1, 3600, 'expected 1 to 3600 seconds'), 300),
    rotation_overlap_seconds: withDefault(integer(0, 30 * 86_400, 'expected 0 to 2592000 seconds'), 3600),
  },
  { error: 'expected a mapping of credential settings (issuer, algorithm, keys, token_lifetime_seconds, …)' },
);

const CREDENTIAL_MODES = ['minted', 'token_exchange', 'static', 'none'] as const;
const CREDENTIAL_NEEDS = { token_exchange: ['token_endpoint', 'client_id', 'client_secret'], static: ['header', 'value'] } as const;

/** Per-upstream `credential:`; which keys are needed depends on the mode. */
const upstreamCredential = z
  .strictObject(
    {
      mode: optional(z.enum(CREDENTIAL_MODES, { error: `expected one of ${CREDENTIAL_MODES.join(', ')}` })),
      audience: optional(nonEmpty('expected the audience this upstream accepts (default: its URL)')),
      lifetime_seconds: optional(integer(1, 3600, 'expected 1 to 3600 seconds')),
      scopes: withDefault(
        z.record(nonEmpty('expected a tool name or *'), z.array(matching(SCOPE, 'expected an OAuth scope (no spaces or quotes)'), { error: 'expected a list of scopes' }), {
          error: 'expected a mapping of tool names (or "*") to lists of scopes',
        }),
        {},
      ),
      token_endpoint: optional(httpUrl('expected the authorization server token endpoint, an http:// or https:// URL')),
      client_id: optional(nonEmpty('expected the client id toolgate authenticates with at the token endpoint')),
      client_secret: optional(nonEmpty('expected the client secret (use ${ENV})')),
      resource: optional(nonEmpty('expected the resource (RFC 8707) to ask a token for (default: the upstream URL)')),
      header: optional(matching(HEADER_NAME, 'expected an HTTP header name')),
      value: optional(nonEmpty('expected the secret header value (use ${ENV})')),
    },
    { error: "expected a mapping with mode and that mode's settings" },
  )
  .superRefine((credential, ctx) => {
    const needs = credential.mode === 'token_exchange' || credential.mode === 'static' ? CREDENTIAL_NEEDS[credential.mode] : [];
    for (const key of needs) {
      if (credential[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], input: undefined, message: `required when mode is ${credential.mode}` });
    }
  });

const upstreamTls = z.strictObject(
  {
    cert: optional(nonEmpty('expected the path of the client certificate (PEM)')),
    key: optional(nonEmpty('expected the path of the client private key (PEM)')),
    ca: optional(nonEmpty('expected the path of the CA bundle the upstream certificate must chain to (PEM)')),
  },
  { error: 'expected a mapping with cert, key and ca' },
);

const timeouts = z.strictObject(
  {
    connect_ms: withDefault(positiveInteger, 10_000),
    request_ms: withDefault(positiveInteger, 60_000),
  },
  { error: 'expected a mapping with connect_ms and request_ms' },
);

const upstream = z.strictObject(
  {
    id: matching(UPSTREAM_ID, 'expected an id of 1-63 lowercase letters, digits, _ and -, starting with a letter or digit'),
    url: optional(httpUrl('expected an http:// or https:// URL')),
    headers: withDefault(z.record(matching(HEADER_NAME, 'expected an HTTP header name'), text, { error: 'expected a mapping of header names to values' }), {}),
    command: optional(nonEmpty('expected the program to run, like node or ./server')),
    args: withDefault(z.array(text, { error: 'expected a list of strings' }), []),
    env: withDefault(z.record(matching(ENV_NAME, 'expected an environment variable name'), text, { error: 'expected a mapping of variable names to values' }), {}),
    cwd: optional(nonEmpty('expected a directory path')),
    prefix: optional(matching(PREFIX, 'expected up to 64 letters, digits, _, - or . ("" for no prefix)')),
    protocol: withDefault(z.enum(PROTOCOLS, { error: `expected one of ${PROTOCOLS.join(', ')}` }), 'auto'),
    timeouts: withDefault(timeouts, {}),
    scopes: optional(z.array(matching(SCOPE, 'expected an OAuth scope (no spaces or quotes)'), { error: 'expected a list of scopes' })),
    credential: optional(upstreamCredential),
    tls: optional(upstreamTls),
  },
  { error: 'expected a mapping describing one upstream' },
);

/**
 * `listener.limits`: what one client may hold of the front door. The timeouts cut off clients
 * that send slowly (a request must be complete within request_timeout_ms); the connection caps
 * bound sockets in total and per remote address; unauthenticated_body_bytes is how much of an
 * unauthenticated request's body is read (and discarded) before the connection is closed.
 */
const listenerLimits = z
  .strictObject(
    {
      headers_timeout_ms: withDefault(positiveInteger, 10_000),
      request_timeout_ms: withDefault(positiveInteger, 30_000),
      keep_alive_timeout_ms: withDefault(positiveInteger, 65_000),
      max_requests_per_socket: withDefault(integer(0, Number.MAX_SAFE_INTEGER, 'expected a whole number (0: no limit)'), 1000),
      max_connections: withDefault(positiveInteger, 1024),
      max_connections_per_address: withDefault(positiveInteger, 256),
      unauthenticated_body_bytes: withDefault(integer(0, Number.MAX_SAFE_INTEGER, 'expected a whole number of bytes'), 16 * 1024),
    },
    { error: 'expected a mapping of listener limits' },
  )
  .superRefine((limits, ctx) => {
    // A request's headers are part of the request: their deadline cannot be the later one.
    if (limits.headers_timeout_ms > limits.request_timeout_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['headers_timeout_ms'],
        input: limits.headers_timeout_ms,
        message: `expected at most request_timeout_ms (${limits.request_timeout_ms})`,
      });
    }
    if (limits.max_connections_per_address > limits.max_connections) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_connections_per_address'],
        input: limits.max_connections_per_address,
        message: `expected at most max_connections (${limits.max_connections})`,
      });
    }
  });

const listener = z.strictObject(
  {
    host: withDefault(matching(LISTEN_HOST, 'expected a host name or IP address to listen on, like 127.0.0.1'), '127.0.0.1'),
    // 0 asks the OS for a free port; src/gateway.ts then allows the port it got in Host/Origin.
    port: withDefault(integer(0, 65_535, 'expected a port number from 0 to 65535 (0: any free port)'), 7420),
    path: withDefault(matching(URL_PATH, 'expected a URL path starting with /, like /mcp'), '/mcp'),
    public_url: optional(
      z
        .string({ error: 'expected an http:// or https:// URL' })
        .refine((value) => isHttpUrl(value) && !/[?#]/.test(value), { error: 'expected an http:// or https:// URL without query or fragment' })
        .transform((value) => value.replace(/\/+$/, '')),
    ),
    allowed_origins: optional(
      z.array(
        z
          .string({ error: 'expected an origin like https://app.example.com' })
          .refine(isOrigin, { error: 'expected an origin like https://app.example.com (scheme, host and port only)' })
          .transform((value) => new URL(value).origin),
        { error: 'expected a list of origins' },
      ),
    ),
    allowed_hosts: optional(
      z.array(matching(HOST_HEADER, 'expected a Host header value like gw.example.com or 127.0.0.1:7420'), { error: 'expected a list of host[:port] values' }),
    ),
    max_body_bytes: withDefault(positiveInteger, 4 * 1024 * 1024),
    session_idle_seconds: withDefault(positiveInteger, 3600),
    limits: withDefault(listenerLimits, {}),
    tls: optional(tls),
  },
  { error: 'expected a mapping of listener settings' },
);

export const configFileSchema = z.strictObject(
  {
    listener: withDefault(listener, {}),
    auth: optional(auth),
    policy: optional(policySection),
    credentials: optional(credentials),
    audit: optional(auditSection),
    limits: optional(limitsSection),
    trace: optional(traceSection),
    admin: optional(adminSection),
    metrics: optional(metricsSection),
    upstreams: z.array(upstream, { error: 'expected a list of upstreams' }).min(1, { error: 'expected a list of at least one upstream' }),
  },
  { error: 'expected a mapping with listener and upstreams' },
);

/** The file after validation, before derived defaults and path resolution. */
export type ConfigFile = z.output<typeof configFileSchema>;
