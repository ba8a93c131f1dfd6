/**
 * The typed refusals stages throw on the request path, caught where the response is written
 * (src/mcp/router.ts). A seam file like stages.ts: stages and the downstream side share them.
 */
import { ToolgateError } from '../errors.js';

/**
 * A refusal the caller can fix with more scope: answered as HTTP 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` when the response has not
 * started, else as a JSON-RPC error on the stream. Thrown by server access (baseline scopes)
 * and by a policy denial that names the scopes that would allow the call.
 */
export class InsufficientScope extends ToolgateError {
  declare readonly code: 'ERR_INSUFFICIENT_SCOPE';
  constructor(
    readonly scopes: readonly string[],
    readonly reason: string,
  ) {
    super('ERR_INSUFFICIENT_SCOPE', `insufficient scope: needs ${scopes.join(' ')}`);
  }
}

/** Errors of the audit log. Callers branch on `code`, never on the message. */
export class AuditError extends ToolgateError {
  declare readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export type AuditErrorCode =
  /** The store refused or lost a write; the record is not durable. */
  | 'ERR_AUDIT_STORE'
  /** The event holds a value its record cannot be written with (RFC 8785: no Infinity, NaN or lone surrogate). */
  | 'ERR_AUDIT_UNWRITABLE'
  /** The log is closed (shutting down). */
  | 'ERR_AUDIT_CLOSED'
  /** Another live process writes to the same SQLite file. */
  | 'ERR_AUDIT_LOCKED'
  /** A key file is missing, unreadable or of the wrong kind. */
  | 'ERR_AUDIT_KEY'
  /** An evidence bundle is incomplete or unreadable. */
  | 'ERR_AUDIT_BUNDLE';
