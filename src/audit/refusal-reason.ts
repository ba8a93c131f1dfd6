/**
 * Why a record says something was refused, in one line: the same words for the gateway's log
 * (one line per refused request) and for the reason column of `toolgate audit query`, both read
 * from what the audit record holds (after redaction and secret scrubbing, never the token).
 */
import { withoutSecrets } from './secrets.js';

/** The parts of an audit record, or of the event it is made from, that say whether and why. */
export interface ReasonFields {
  kind: string;
  verdict?: string;
  policies?: readonly string[];
  policyErrors?: readonly string[];
  detail?: unknown;
}

/**
 * Outcomes of `auth` records that are not a refused request: a failed TLS handshake is logged by
 * the listener itself, before there is a request.
 */
const NOT_A_REQUEST = new Set(['tls_handshake_failed']);

/** The reason a request was refused, or undefined when the record is not a refusal. */
export function refusalReason(r: ReasonFields): string | undefined {
  const detail = asObject(r.detail);
  const reason = text(detail?.reason);
  switch (r.kind) {
    case 'auth': {
      const outcome = text(detail?.outcome);
      if (outcome !== undefined && NOT_A_REQUEST.has(outcome)) return undefined;
      return reason ?? outcome ?? 'authentication refused';
    }
    case 'arguments': {
      const field = text(detail?.field);
      return `invalid arguments: ${field ? `${field} ` : ''}${reason ?? 'do not match the tool schema'}`;
    }
    case 'decision': {
      if (r.verdict !== 'deny') return undefined;
      if (reason !== undefined) return reason;
      const by = r.policies && r.policies.length > 0 ? `by policy ${r.policies.join(', ')}` : 'by default (no policy permits it)';
      const errors = r.policyErrors && r.policyErrors.length > 0 ? `; policy errors: ${r.policyErrors.join('; ')}` : '';
      return `${detail?.hidden === true ? 'hidden' : 'denied'} ${by}${errors}`;
    }
    default:
      return undefined;
  }
}

/** Any reason a record gives (a refusal's, a session's end, a credential failure's), for the audit query table. */
export function recordReason(r: ReasonFields): string | undefined {
  return refusalReason(r) ?? text(asObject(r.detail)?.reason);
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A string as the record holds it: a credential-shaped one is never repeated; one line. */
function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return v !== null && typeof v === 'object' && '$redacted' in v ? '[withheld: looks like a credential]' : undefined;
  const clean = withoutSecrets(v);
  return typeof clean === 'string' ? clean.replace(/[\r\n]+/g, ' ') : '[withheld: looks like a credential]';
}
