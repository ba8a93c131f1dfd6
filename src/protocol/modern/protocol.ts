/**
 * Constants of the stateless 2026-07-28 ("modern") MCP revision and the errors it defines.
 * Wire rules are summarised in docs/protocol-2026-07-28.md.
 */
import type { JsonRpcErrorObject } from '../jsonrpc.js';

export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** Reserved `_meta` keys (basic/index.mdx, "_meta"). */
export const MetaKey = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Codes the 2026-07-28 revision allocates in -32020..-32099 (basic/index.mdx, "Error Codes"). */
export const ModernErrorCode = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

/**
 * Methods that exist in the 2025 eras but not in 2026-07-28. A modern server answers them
 * with 404 and -32601 (the conformance suite checks initialize, ping, logging/setLevel,
 * resources/subscribe and resources/unsubscribe).
 */
export const REMOVED_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
  'notifications/initialized',
  'notifications/roots/list_changed',
  'notifications/elicitation/complete',
]);

const DATE_VERSION = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Whether a revision identifier names the modern era (2026-07-28 or later). Revisions are
 * ISO dates, so string order is date order; anything not shaped like a date is not modern.
 *
 * @example isModernProtocolVersion('2026-07-28') // true
 * @example isModernProtocolVersion('2025-11-25') // false
 */
export function isModernProtocolVersion(version: string): boolean {
  return DATE_VERSION.test(version) && version >= MODERN_PROTOCOL_VERSION;
}

/**
 * The UnsupportedProtocolVersionError (-32022). `data.supported` lists what this endpoint
 * serves; `data.requested` echoes the request's version (the conformance suite checks both).
 * HTTP status 400.
 */
export function unsupportedVersionError(requested: string | undefined, supported: readonly string[]): JsonRpcErrorObject {
  const data: { supported: string[]; requested?: string } = { supported: [...supported] };
  if (requested !== undefined) data.requested = requested;
  return {
    code: ModernErrorCode.UnsupportedProtocolVersion,
    message: requested === undefined ? 'Unsupported protocol version: the request names none' : `Unsupported protocol version: ${requested}`,
    data,
  };
}

/**
 * Checks the version a request declares against the versions served.
 *
 * @example checkProtocolVersion('2099-01-01', ['2026-07-28']) // { ok: false, status: 400, error: { code: -32022, … } }
 */
export function checkProtocolVersion(requested: string, supported: readonly string[]): { ok: true } | { ok: false; status: 400; error: JsonRpcErrorObject } {
  if (supported.includes(requested)) return { ok: true };
  return { ok: false, status: 400, error: unsupportedVersionError(requested, supported) };
}

/**
 * The MissingRequiredClientCapabilityError (-32021): the request needs a client capability
 * (e.g. elicitation, to answer an input request) that its `_meta` did not declare. HTTP 400.
 */
export function missingCapabilityError(requiredCapabilities: Record<string, unknown>): JsonRpcErrorObject {
  return {
    code: ModernErrorCode.MissingRequiredClientCapability,
    message: `Missing required client capability: ${Object.keys(requiredCapabilities).join(', ')}`,
    data: { requiredCapabilities },
  };
}

/**
 * HTTP status for an error the gateway itself raises before dispatch on the modern era.
 * Errors produced while handling a request (a tool failing, an unknown tool) travel in-band
 * with 200; -32021 is the exception the spec pins to 400 wherever it arises.
 */
export function httpStatusForModernError(code: number): number {
  if (code === -32601) return 404;
  return 400;
}
