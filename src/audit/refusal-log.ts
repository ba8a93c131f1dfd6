import type { Logger } from '../log.js';
import type { AuditEvent, AuditRef, AuditSink } from '../pipeline/stages.js';
import { refusalReason } from './refusal-reason.js';

/**
 * One line in the gateway's log per refused request, with the reason its audit record holds —
 * so that whoever runs the gateway sees why a client was turned away (an audience mismatch, an
 * expired token, a missing scope, a policy denial, params no record can hold) without opening
 * the audit log. The token never appears: the reason is the record's, scrubbed of anything
 * credential-shaped.
 *
 * A decorator of the audit sink, so every stage that records a refusal is covered without knowing
 * about logging. Events that are not refusals pass straight through (no allocation); a refusal's
 * line is written once its record settles, and says so when the record could not be written.
 */
export class RefusalLog implements AuditSink {
  constructor(
    private readonly inner: AuditSink,
    private readonly logger: Logger,
  ) {}

  record(event: AuditEvent): Promise<AuditRef | void> {
    const d = event.decision;
    // The hot path (an allowed call's decision, its outcome, lists, sessions) passes straight on.
    if (event.kind !== 'auth' && event.kind !== 'arguments' && d?.verdict !== 'deny') return this.inner.record(event);
    const reason = refusalReason({ kind: event.kind, verdict: d?.verdict, policies: d?.policies, policyErrors: d?.errors, detail: event.detail });
    if (reason === undefined) return this.inner.record(event);
    let written: Promise<AuditRef | void>;
    try {
      written = this.inner.record(event);
    } catch (err) {
      written = Promise.reject(err);
    }
    const line = refusalLine(event, reason);
    // A missing token is how every OAuth client starts (it learns where to get one from the 401).
    const level = (event.detail as { code?: unknown } | undefined)?.code === 'ERR_TOKEN_MISSING' ? 'info' : 'warn';
    return written.then(
      (ref) => {
        this.logger.log(level, line);
        return ref;
      },
      (err: unknown) => {
        this.logger.log('error', `${line}; its audit record was not written: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      },
    );
  }
}

/** `refused <what>: <reason> (agent …, user …, tenant …, request …, session …, from …)` */
function refusalLine(event: AuditEvent, reason: string): string {
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  const inv = event.invocation;
  let what: string;
  if (inv) what = `${inv.method} ${inv.exposedName}`;
  else if (event.kind === 'auth' && detail.outcome === 'foreign_session') what = 'session';
  else if (event.kind === 'auth') what = `${typeof detail.method === 'string' ? detail.method : 'request'} (${String(detail.code ?? detail.outcome ?? 'authentication')})`;
  else what = event.kind;
  const p = event.principal;
  const who: string[] = [];
  if (p) {
    who.push(`agent ${p.agent}`);
    if (p.user !== undefined) who.push(`user ${p.user}`);
    if (p.tenant !== undefined) who.push(`tenant ${p.tenant}`);
  }
  const request = event.requestId ?? event.context?.requestId;
  if (request) who.push(`request ${request}`);
  const session = event.sessionId ?? event.context?.sessionId;
  if (session) who.push(`session ${session}`);
  if (typeof detail.remote === 'string') who.push(`from ${detail.remote}`);
  const line = `refused ${what}: ${cut(reason)}${who.length > 0 ? ` (${who.join(', ')})` : ''}`;
  // One line whatever a client put in its claims or params (names come from tokens).
  return line.replace(/\p{Cc}+/gu, ' ');
}

/** Longest reason written to the log (a token's `aud` is the client's to choose); the record keeps it whole. */
const MAX_REASON = 500;

function cut(reason: string): string {
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason;
}
