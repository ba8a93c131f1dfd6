import type { AuditEvent, AuditRef, AuditSink } from '../pipeline/stages.js';

/** The counters an audit event can move. */
export interface RefusalCounters {
  authFailure(code: string): void;
  limitRefused(limit: string): void;
}

/**
 * A decorator of the audit sink that counts the refusals every stage already records: failed
 * authentications by their error code, and refusals by a limit by its name. Any other event
 * passes straight on after two comparisons of its kind.
 */
export class MeteredAudit implements AuditSink {
  constructor(
    private readonly inner: AuditSink,
    private readonly counters: RefusalCounters,
  ) {}

  record(event: AuditEvent): Promise<AuditRef | void> {
    if (event.kind === 'auth') {
      const detail = event.detail as { outcome?: unknown; code?: unknown } | undefined;
      if (detail?.outcome === 'rejected' && typeof detail.code === 'string') this.counters.authFailure(detail.code);
    } else if (event.kind === 'limit') {
      const limit = (event.detail as { limit?: unknown } | undefined)?.limit;
      if (typeof limit === 'string') this.counters.limitRefused(limit);
    }
    return this.inner.record(event);
  }
}
