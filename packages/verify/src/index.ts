/**
 * @toolgate/verify — for MCP servers behind toolgate: check the per-call token toolgate mints
 * for every call it allows (signature, issuer, this server as sole audience, expiry, one use per
 * `jti`, and that the tool and arguments received are the ones that were authorized).
 * See the README section "For server authors".
 */

export { argumentsHash } from './argument-hash.js';
export { type ActorClaim, type AuditRefClaim, CREDENTIAL_META_KEY, PER_CALL_TOKEN_TYPE, type PerCallClaims } from './claims.js';
export {
  ArgumentsMismatchError,
  AudienceError,
  BodyError,
  CallTokenError,
  IssuerError,
  KeySetUnavailableError,
  ReplayStoreError,
  TokenExpiredError,
  TokenInvalidError,
  TokenLifetimeError,
  TokenMissingError,
  TokenReplayedError,
  ToolMismatchError,
} from './errors.js';
export { type FetchHandler, verifyFetchRequests } from './fetch.js';
export { FileJtiStore, type FileJtiStoreOptions } from './file-jti-store.js';
export { type JtiStore, MemoryJtiStore } from './jti-store.js';
export { BOUND_METHODS, bindingOf, type CallBinding } from './message-binding.js';
export { type NodeVerificationOptions, type VerifiedNodeHandler, verifyNodeRequests } from './node-http.js';
export { CALL_TOKEN_REFUSED } from './refusal.js';
export { type MessageTransport, verifyTransportMessages } from './stdio.js';
export { type CallChain, CallVerifier, DEFAULT_REPLAY_FILE, type VerifierOptions } from './verifier.js';
