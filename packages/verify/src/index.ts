/**
 * @toolgate/verify — for MCP servers behind toolgate: check the per-call token toolgate mints
 * for every call it allows (signature, issuer, this server as sole audience, expiry, one use per
 * `jti`, and that the tool and arguments received are the ones that were authorized).
 * See the README section "For server authors".
 */
export { CallVerifier, type CallChain, type VerifierOptions } from './verifier.js';
export { MemoryJtiStore, type JtiStore } from './jti-store.js';
export { verifyNodeRequests, type VerifiedNodeHandler, type NodeVerificationOptions } from './node-http.js';
export { verifyFetchRequests, type FetchHandler } from './fetch.js';
export { verifyTransportMessages, type MessageTransport } from './stdio.js';
export { argumentsHash } from './argument-hash.js';
export { bindingOf, BOUND_METHODS, type CallBinding } from './message-binding.js';
export { PER_CALL_TOKEN_TYPE, CREDENTIAL_META_KEY, type PerCallClaims, type AuditRefClaim, type ActorClaim } from './claims.js';
export { CALL_TOKEN_REFUSED } from './refusal.js';
export {
  CallTokenError,
  TokenMissingError,
  TokenInvalidError,
  TokenExpiredError,
  TokenLifetimeError,
  AudienceError,
  IssuerError,
  TokenReplayedError,
  ToolMismatchError,
  ArgumentsMismatchError,
  BodyError,
  KeySetUnavailableError,
} from './errors.js';
