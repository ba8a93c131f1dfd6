/**
 * The one base of every error toolgate raises on purpose. Callers branch on `code` — stable,
 * `ERR_*`, documented where each subclass lives — never on the message or the class name.
 *
 * An error has two forms, kept apart:
 * - the local form is the error itself: `message`, `cause` and the subclass's fields, in full
 *   detail (paths, hosts, what an authorization server said). The log and the audit record get it.
 * - the wire form is what a client is told. It is never the local message by default: the folder
 *   that answers the client maps the error to it (identity/challenge.ts for authentication,
 *   `CredentialError.told`, the MCP endpoint for an oversized body, the router for scope and
 *   audit refusals, the upstream client for a failed upstream), the way
 *   verify/refusal.ts maps a refused call token to its HTTP answer.
 *
 * Errors the operator sees (config, policy files, startup, the CLI) have no wire form: the
 * local message is what is printed.
 */
export class ToolgateError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
