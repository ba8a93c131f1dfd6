/**
 * Why no credential could be made for a call. The call then fails (the client is told which
 * upstream, the audit record is told why); nothing ever falls back to the client's own token.
 */
export class CredentialError extends Error {
  constructor(
    readonly code: string,
    readonly upstream: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CredentialError';
  }
}

/** Signing keys missing, unreadable, malformed, or of the wrong algorithm. */
export class SigningKeyError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyError';
  }
}
