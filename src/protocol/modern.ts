/**
 * The stateless 2026-07-28 MCP revision: pure functions for the per-request envelope, the
 * standard and custom request headers, `server/discover`, result marking, era detection and
 * multi round-trip requests. No I/O here; the wire rules and the sources behind each
 * function are in docs/protocol-2026-07-28.md.
 */

export { LOG_LEVELS, type LoggingLevel } from './log-levels.js';
export { type Discovered, type DiscoverInput, discoverResult, parseDiscoverResult } from './modern/discover.js';
export {
  type ClientCapabilities,
  type EnvelopeRejection,
  envelopeVersion,
  hasEnvelopeClaim,
  type Implementation,
  type RequestEnvelope,
  readRequestEnvelope,
  withoutRequestEnvelope,
  withRequestEnvelope,
} from './modern/envelope.js';
export { type ClientEra, classifyClientEra, classifyDiscoverProbe, type ProbeReply, type ProbeVerdict } from './modern/era.js';
export { decodeHeaderValue, encodeHeaderValue } from './modern/header-value.js';
export { checkModernHeaders, type HeaderBag, type HeaderCheck, HeaderName, mcpNameSource, modernHeadersFor } from './modern/headers.js';
export {
  INPUT_REQUEST_METHODS,
  inputRequestFromLegacy,
  MRTR_METHODS,
  missingCapabilities,
  type RetryInput,
  readRetryInput,
  requiredCapability,
  withoutRetryInput,
} from './modern/mrtr.js';
export { checkParamHeaders, type ParamHeaderDeclaration, paramHeadersFor, readParamHeaderDeclarations } from './modern/param-headers.js';
export {
  checkProtocolVersion,
  httpStatusForModernError,
  isModernProtocolVersion,
  MetaKey,
  MODERN_PROTOCOL_VERSION,
  ModernErrorCode,
  missingCapabilityError,
  REMOVED_METHODS,
  unsupportedVersionError,
} from './modern/protocol.js';
export { CACHEABLE_METHODS, type CacheScope, classifyResult, type MarkOptions, markResult, type ResultClass, unmarkResult } from './modern/result.js';
