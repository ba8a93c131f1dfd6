/**
 * Why a caller was not authenticated. Callers branch on `code` (stable), never on the message.
 * `reason` is the full story for the audit record; `challenge` says which RFC 6750 error code
 * (if any) the client sees. The client is told less than the auditor.
 */
import { ToolgateError } from '../errors.js';
export type AuthFailureCode =
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_IN_QUERY'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_TOKEN_ALG'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_UNKNOWN_KEY'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_TYPE'
  | 'ERR_TOKEN_CLAIMS'
  | 'ERR_TOKEN_LIFETIME'
  | 'ERR_TOKEN_INACTIVE'
  | 'ERR_TOKEN_CERT_BINDING'
  | 'ERR_CERT_TOKEN_MISMATCH'
  | 'ERR_CERT_REJECTED'
  | 'ERR_ISSUER_UNAVAILABLE'
  | 'ERR_AUTHORIZATION_DUPLICATE'
  | 'ERR_TOKEN_CNF'
  | 'ERR_DPOP_BOUND_AS_BEARER'
  | 'ERR_DPOP_PROOF_MISSING'
  | 'ERR_DPOP_PROOF_INVALID'
  | 'ERR_DPOP_METHOD'
  | 'ERR_DPOP_URL'
  | 'ERR_DPOP_IAT'
  | 'ERR_DPOP_REPLAY'
  | 'ERR_DPOP_ATH'
  | 'ERR_DPOP_KEY'
  | 'ERR_DPOP_NONCE'
  | 'ERR_DPOP_REPLAY_CACHE_FULL';

/** Failures of the DPoP proof itself: answered with the `DPoP` scheme, `invalid_dpop_proof`. */
export const DPOP_PROOF_FAILURES: ReadonlySet<AuthFailureCode> = new Set([
  'ERR_DPOP_PROOF_MISSING',
  'ERR_DPOP_PROOF_INVALID',
  'ERR_DPOP_METHOD',
  'ERR_DPOP_URL',
  'ERR_DPOP_IAT',
  'ERR_DPOP_REPLAY',
  'ERR_DPOP_ATH',
  'ERR_DPOP_KEY',
]);

/** What the client learns, per code: a short, fixed description. */
const TOLD: Record<AuthFailureCode, string> = {
  ERR_TOKEN_MISSING: 'A bearer token is required',
  ERR_TOKEN_IN_QUERY: 'Access tokens must be sent in the Authorization header, not the URL',
  ERR_TOKEN_MALFORMED: 'The access token is malformed',
  ERR_TOKEN_TOO_LARGE: 'The access token is too large',
  ERR_TOKEN_ALG: 'The access token is invalid',
  ERR_TOKEN_SIGNATURE: 'The access token is invalid',
  ERR_TOKEN_UNKNOWN_KEY: 'The access token is invalid',
  ERR_TOKEN_EXPIRED: 'The access token expired',
  ERR_TOKEN_NOT_YET_VALID: 'The access token is not valid yet',
  ERR_TOKEN_ISSUER: 'The access token is invalid',
  ERR_TOKEN_AUDIENCE: 'The access token was not issued for this resource',
  ERR_TOKEN_TYPE: 'The access token is invalid',
  ERR_TOKEN_CLAIMS: 'The access token is invalid',
  ERR_TOKEN_LIFETIME: 'The access token is invalid',
  ERR_TOKEN_INACTIVE: 'The access token is not active',
  ERR_TOKEN_CERT_BINDING: 'The access token is bound to another certificate',
  ERR_CERT_TOKEN_MISMATCH: 'The client certificate and the access token name different agents',
  ERR_CERT_REJECTED: 'The client certificate was not accepted',
  ERR_ISSUER_UNAVAILABLE: 'The token issuer could not be reached',
  ERR_AUTHORIZATION_DUPLICATE: 'Only one Authorization header is allowed',
  ERR_TOKEN_CNF: 'The access token carries a confirmation this server cannot check',
  ERR_DPOP_BOUND_AS_BEARER: 'The access token is DPoP-bound and must be sent with the DPoP scheme and a proof',
  ERR_DPOP_PROOF_MISSING: 'A DPoP proof is required',
  ERR_DPOP_PROOF_INVALID: 'The DPoP proof is invalid',
  ERR_DPOP_METHOD: 'The DPoP proof is for another HTTP method',
  ERR_DPOP_URL: 'The DPoP proof is for another URL',
  ERR_DPOP_IAT: 'The DPoP proof is too old or from the future',
  ERR_DPOP_REPLAY: 'The DPoP proof was already used',
  ERR_DPOP_ATH: 'The DPoP proof is for another access token',
  ERR_DPOP_KEY: 'The DPoP proof is signed by another key than the access token is bound to',
  ERR_DPOP_NONCE: 'Resource server requires nonce in DPoP proof',
  ERR_DPOP_REPLAY_CACHE_FULL: 'Too many DPoP proofs right now; retry shortly',
};

export class AuthenticationError extends ToolgateError {
  declare readonly code: AuthFailureCode;

  constructor(
    code: AuthFailureCode,
    /** Full reason, for the audit record only. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(code, reason, options);
  }

  /** The wire form: the short description the client may see. */
  get told(): string {
    return TOLD[this.code];
  }
}
