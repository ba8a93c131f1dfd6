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
