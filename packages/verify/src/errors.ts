/**
 * Why a per-call token was refused. Callers branch on `code`, never on the message.
 * `status` is the HTTP status a middleware answers with.
 */
export class CallTokenError extends Error {
  readonly code: string = 'ERR_CALL_TOKEN';
  readonly status: number = 401;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No `Authorization: Bearer` header on a request that needs one. */
export class TokenMissingError extends CallTokenError {
  override readonly code = 'ERR_TOKEN_MISSING';
}

/** Not a JWS, wrong `typ`, bad signature, unknown key, disallowed algorithm, missing claims. */
export class TokenInvalidError extends CallTokenError {
  override readonly code = 'ERR_TOKEN_INVALID';
}

export class TokenExpiredError extends CallTokenError {
  override readonly code = 'ERR_EXPIRED';
}

/** `exp - iat` longer than the verifier accepts: a token meant for one call lives seconds. */
export class TokenLifetimeError extends CallTokenError {
  override readonly code = 'ERR_LIFETIME';
}

/** Minted for another upstream. */
export class AudienceError extends CallTokenError {
  override readonly code = 'ERR_AUDIENCE';
}

export class IssuerError extends CallTokenError {
  override readonly code = 'ERR_ISSUER';
}

/** This `jti` was already used: a captured token presented again. */
export class TokenReplayedError extends CallTokenError {
  override readonly code = 'ERR_TOKEN_REPLAYED';
}

/** The request is a different method or names a different tool than the token allows. */
export class ToolMismatchError extends CallTokenError {
  override readonly code = 'ERR_TOOL_MISMATCH';
  override readonly status = 403;
}

/** The arguments received do not hash to the token's `args_sha256`: altered after authorization. */
export class ArgumentsMismatchError extends CallTokenError {
  override readonly code = 'ERR_ARGUMENTS_MISMATCH';
  override readonly status = 403;
}

/** The body cannot be bound to one call (not JSON, a batch, no method). */
export class BodyError extends CallTokenError {
  override readonly code = 'ERR_BODY';
  override readonly status = 400;
}

/** The gateway's JWKS could not be fetched: a problem on the server's side, not the caller's. */
export class KeySetUnavailableError extends CallTokenError {
  override readonly code = 'ERR_JWKS_UNAVAILABLE';
  override readonly status = 503;
}

/**
 * The replay store could not record the token's `jti` (disk full, file closed…): the call is
 * refused, since accepting it would let a restart forget it was used. A server-side problem.
 */
export class ReplayStoreError extends CallTokenError {
  override readonly code = 'ERR_REPLAY_STORE';
  override readonly status = 503;
}
