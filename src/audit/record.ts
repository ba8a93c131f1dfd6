import type { AuditEvent } from '../pipeline/stages.js';
import type { Commitment, Redactor } from './redaction.js';
import { withoutSecrets } from './secrets.js';

/**
 * The audit record, schema version 1. Its RFC 8785 bytes are what is hashed, stored and
 * exported; `chain`, `seq` and `prev` are inside them, so a record cannot be moved to another
 * place in the log without its hash changing. Absent fields are left out, never null.
 *
 * kinds: AuditEventKind (src/pipeline/stages.ts); `kind` stays a string here, since a log
 * written by another version may hold kinds this one does not know.
 */
export const RECORD_VERSION = 1;

export interface RecordBody {
  v: 1;
  chain: string;
  seq: number;
  prev: string;
  /** UTC, ISO 8601 with milliseconds. */
  at: string;
  kind: string;
  request?: string;
  session?: string;
  trace?: string;
  /** The instruction or task ids the call served (allow-listed keys), scrubbed like other client text. */
  instruction?: Record<string, string>;
  principal?: {
    agent: string;
    user?: string;
    tenant?: string;
    scopes: string[];
    tokenId?: string;
    issuer?: string;
    actors?: string[];
    anonymous?: true;
    /** Transport identity (mTLS client certificate). */
    transport?: { subject: string; sanUris: string[]; sanDns: string[]; thumbprint: string };
  };
  upstream?: string;
  method?: string;
  /** The name the client called; `target` is the upstream's own name or URI. */
  tool?: string;
  target?: string;
  toolHash?: string;
  /** After redaction. */
  args?: Record<string, unknown>;
  verdict?: 'allow' | 'deny';
  policies?: string[];
  policyErrors?: string[];
  policySetHash?: string;
  /** The candidate (shadow) set's verdict on the same request, when one runs beside the enforced set. */
  shadow?: { verdict: 'allow' | 'deny'; policies: string[]; policySetHash?: string };
  /** Milliseconds from the request's receipt to this record (decisions). */
  latencyMs?: number;
  outcome?: { status: 'ok' | 'error'; isError?: boolean; latencyMs: number; resultBytes?: number; resultHash?: string; error?: unknown };
  links?: { decision?: { chain: string; position: number; hash: string } };
  detail?: unknown;
}

/** The part of a record known when the event arrives; the chain fields are set when it is written. */
export type PendingBody = Omit<RecordBody, 'chain' | 'seq' | 'prev'>;

export interface PendingRecord {
  body: PendingBody;
  commitments: Commitment[];
}

/** Maps a stage's AuditEvent onto the record schema, redacting arguments and scrubbing free text. */
export function pendingRecord(event: AuditEvent, redactor: Redactor): PendingRecord {
  const body: PendingBody = { v: RECORD_VERSION, at: event.at.toISOString(), kind: event.kind };
  let commitments: Commitment[] = [];
  const ctx = event.context;
  const request = event.requestId ?? ctx?.requestId;
  if (request) body.request = request;
  const session = event.sessionId ?? ctx?.sessionId;
  if (session) body.session = session;
  const trace = traceId(ctx?.traceparent);
  if (trace) body.trace = trace;
  if (ctx?.instruction) body.instruction = scrubbed(ctx.instruction);
  const p = event.principal;
  if (p) {
    body.principal = { agent: p.agent, scopes: [...p.scopes] };
    if (p.user !== undefined) body.principal.user = p.user;
    if (p.tenant !== undefined) body.principal.tenant = p.tenant;
    if (p.tokenId !== undefined) body.principal.tokenId = p.tokenId;
    if (p.issuer !== undefined) body.principal.issuer = p.issuer;
    if (p.actors !== undefined) body.principal.actors = [...p.actors];
    if (p.anonymous) body.principal.anonymous = true;
    if (p.certificate) body.principal.transport = { ...p.certificate };
  }
  const inv = event.invocation;
  if (inv) {
    body.upstream = inv.upstream;
    body.method = inv.method;
    body.tool = inv.exposedName;
    body.target = inv.target;
    if (inv.definitionHash !== undefined) body.toolHash = inv.definitionHash;
    // Arguments belong on the decision; the outcome links to it instead of repeating them.
    if (event.kind !== 'outcome') {
      const redacted = redactor.redact(inv.exposedName, p?.tenant, inv.arguments ?? {});
      body.args = redacted.args;
      commitments = redacted.commitments;
    }
  }
  const d = event.decision;
  if (d) {
    body.verdict = d.verdict;
    body.policies = [...d.policies];
    if (d.errors.length > 0) body.policyErrors = d.errors.map((e) => withoutSecrets(e) as string);
    if (d.policySetHash !== undefined) body.policySetHash = d.policySetHash;
    if (d.shadow)
      body.shadow = { verdict: d.shadow.verdict, policies: [...d.shadow.policies], ...(d.shadow.policySetHash !== undefined ? { policySetHash: d.shadow.policySetHash } : {}) };
    if (ctx?.receivedAt) body.latencyMs = round(event.at.getTime() - ctx.receivedAt.getTime());
  }
  const o = event.outcome;
  if (o) {
    body.outcome = { status: o.status, latencyMs: round(o.latencyMs) };
    if (o.isError !== undefined) body.outcome.isError = o.isError;
    if (o.resultBytes !== undefined) body.outcome.resultBytes = o.resultBytes;
    if (o.resultHash !== undefined) body.outcome.resultHash = o.resultHash;
    if (o.error !== undefined) body.outcome.error = withoutSecrets(o.error);
  }
  const link = event.links?.decision;
  if (link) body.links = { decision: { chain: link.chain, position: link.position, hash: link.hash } };
  if (event.detail !== undefined) body.detail = withoutSecrets(event.detail);
  return { body, commitments };
}

/** W3C trace id from a traceparent header (`00-<trace-id>-<span-id>-<flags>`). */
function traceId(traceparent: string | undefined): string | undefined {
  if (!traceparent) return undefined;
  const parts = traceparent.split('-');
  return parts.length >= 4 && /^[0-9a-f]{32}$/.test(parts[1]!) ? parts[1] : undefined;
}

/** The ids with any value that looks like a credential replaced by `$redacted:<detector>` (the field stays a string map). */
function scrubbed(ids: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(ids)) {
    const value = withoutSecrets(ids[key], key);
    out[key] = typeof value === 'string' ? value : `$redacted:${(value as { detector?: string }).detector ?? 'secret'}`;
  }
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
