import { z } from 'zod';

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
  return (
    url !== undefined &&
    isHttpUrl(text) &&
    url.pathname === '/' &&
    !/[?#]/.test(text) &&
    url.username === '' &&
    url.password === ''
  );
}

/** A string; YAML numbers and booleans are refused so nothing is silently reformatted. */
const text = z.string({ error: 'expected a string (put numbers and true/false in quotes)' });
const nonEmpty = (expected: string) => z.string({ error: expected }).min(1, { error: expected });

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
    headers: withDefault(
      z.record(matching(HEADER_NAME, 'expected an HTTP header name'), text, { error: 'expected a mapping of header names to values' }),
      {},
    ),
    command: optional(nonEmpty('expected the program to run, like node or ./server')),
    args: withDefault(z.array(text, { error: 'expected a list of strings' }), []),
    env: withDefault(
      z.record(matching(ENV_NAME, 'expected an environment variable name'), text, { error: 'expected a mapping of variable names to values' }),
      {},
    ),
    cwd: optional(nonEmpty('expected a directory path')),
    prefix: optional(matching(PREFIX, 'expected up to 64 letters, digits, _, - or . ("" for no prefix)')),
    protocol: withDefault(z.enum(PROTOCOLS, { error: `expected one of ${PROTOCOLS.join(', ')}` }), 'auto'),
    timeouts: withDefault(timeouts, {}),
  },
  { error: 'expected a mapping describing one upstream' },
);

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
      z.array(
        matching(HOST_HEADER, 'expected a Host header value like gw.example.com or 127.0.0.1:7420'),
        { error: 'expected a list of host[:port] values' },
      ),
    ),
    max_body_bytes: withDefault(positiveInteger, 4 * 1024 * 1024),
    session_idle_seconds: withDefault(positiveInteger, 3600),
  },
  { error: 'expected a mapping of listener settings' },
);

export const configFileSchema = z.strictObject(
  {
    listener: withDefault(listener, {}),
    upstreams: z
      .array(upstream, { error: 'expected a list of upstreams' })
      .min(1, { error: 'expected a list of at least one upstream' }),
  },
  { error: 'expected a mapping with listener and upstreams' },
);

/** The file after validation, before derived defaults and path resolution. */
export type ConfigFile = z.output<typeof configFileSchema>;
