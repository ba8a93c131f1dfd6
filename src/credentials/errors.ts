import { ToolgateError } from '../errors.js';

/**
 * Why no credential could be made for a call. The call then fails (the client is told which
 * upstream, the audit record is told why); nothing ever falls back to the client's own token.
 */
export class CredentialError extends ToolgateError {
  constructor(
    code: string,
    readonly upstream: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }

  /** The wire form: which upstream and the code, never an authorization server's words. */
  get told(): string {
    return `no credential for upstream ${this.upstream} (${this.code})`;
  }
}

/** Signing keys missing, unreadable, malformed, or of the wrong algorithm. */
export class SigningKeyError extends ToolgateError {}
