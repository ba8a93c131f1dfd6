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
  | 'ERR_ISSUER_UNAVAILABLE';

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
