/**
 * The stateless 2026-07-28 MCP revision: pure functions for the per-request envelope, the
 * standard and custom request headers, `server/discover`, result marking, era detection and
 * multi round-trip requests. No I/O here; the wire rules and the sources behind each
 * function are in docs/protocol-2026-07-28.md.
 */
export {
  MODERN_PROTOCOL_VERSION,
  MetaKey,
  ModernErrorCode,
  REMOVED_METHODS,
  isModernProtocolVersion,
  unsupportedVersionError,
  checkProtocolVersion,
  missingCapabilityError,
  httpStatusForModernError,
} from './modern/protocol.js';
export { LOG_LEVELS, type LoggingLevel } from './log-levels.js';
export {
  readRequestEnvelope,
  withRequestEnvelope,
  withoutRequestEnvelope,
  hasEnvelopeClaim,
  envelopeVersion,
  type RequestEnvelope,
  type EnvelopeRejection,
  type Implementation,
  type ClientCapabilities,
} from './modern/envelope.js';
export { checkModernHeaders, modernHeadersFor, mcpNameSource, HeaderName, type HeaderBag, type HeaderCheck } from './modern/headers.js';
export { encodeHeaderValue, decodeHeaderValue } from './modern/header-value.js';
export { readParamHeaderDeclarations, paramHeadersFor, checkParamHeaders, type ParamHeaderDeclaration } from './modern/param-headers.js';
export { discoverResult, parseDiscoverResult, type DiscoverInput, type Discovered } from './modern/discover.js';
export { markResult, unmarkResult, classifyResult, CACHEABLE_METHODS, type CacheScope, type MarkOptions, type ResultClass } from './modern/result.js';
export { classifyClientEra, classifyDiscoverProbe, type ClientEra, type ProbeReply, type ProbeVerdict } from './modern/era.js';
export {
  MRTR_METHODS,
  INPUT_REQUEST_METHODS,
  readRetryInput,
  withoutRetryInput,
  requiredCapability,
  missingCapabilities,
  inputRequestFromLegacy,
  type RetryInput,
} from './modern/mrtr.js';
