/**
 * The typed refusals stages throw on the request path, caught where the response is written
 * (src/mcp/router.ts). A seam file like stages.ts: stages and the downstream side share them.
 */

/**
 * A refusal the caller can fix with more scope: answered as HTTP 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` when the response has not
 * started, else as a JSON-RPC error on the stream. Thrown by server access (baseline scopes)
 * and by a policy denial that names the scopes that would allow the call.
 */
export class InsufficientScope extends Error {
  readonly code = 'ERR_INSUFFICIENT_SCOPE';
  constructor(readonly scopes: readonly string[], readonly reason: string) {
    super(`insufficient scope: needs ${scopes.join(' ')}`);
    this.name = 'InsufficientScope';
  }
}

/** Errors of the audit log. Callers branch on `code`, never on the message. */
export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuditError';
  }
}

export type AuditErrorCode =
  /** The store refused or lost a write; the record is not durable. */
  | 'ERR_AUDIT_STORE'
  /** The log is closed (shutting down). */
  | 'ERR_AUDIT_CLOSED'
  /** Another live process writes to the same SQLite file. */
  | 'ERR_AUDIT_LOCKED'
  /** A key file is missing, unreadable or of the wrong kind. */
  | 'ERR_AUDIT_KEY'
  /** An evidence bundle is incomplete or unreadable. */
  | 'ERR_AUDIT_BUNDLE';
