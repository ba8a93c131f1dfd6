/**
 * The seams of the request path (DESIGN.md): identity → session → router → policy →
 * credentials → upstream, with audit as a sink. Each stage is one narrow interface; the core
 * calls them in order and never reaches back. Today's implementations pass through; the
 * identity, policy, credential and audit issues replace them without reshaping the core.
 */
import type { IncomingMessage } from 'node:http';

/** Who is calling: the result of the identity stage. */
export interface Principal {
  agent: string;
  user?: string;
  tenant?: string;
  scopes: string[];
  tokenId?: string;
  /** A stable key that says whether two requests come from the same principal (session binding). */
  bindingKey: string;
  /** True when no authentication is configured and the caller is anonymous. */
  anonymous: boolean;
}

/** What a stage refuses with: what the client is told, and (separately, fuller) what the auditor is told. */
export interface Rejection {
  status: number;
  headers?: Record<string, string>;
  /** JSON-RPC error to send, when the refusal is per message rather than per HTTP request. */
  rpcError?: { code: number; message: string };
  /** For the audit record: why, in full. Never sent to the client. */
  reason: string;
}

export interface RequestContext {
  requestId: string;
  sessionId?: string;
  protocolVersion: string;
  traceparent?: string;
  receivedAt: Date;
}

/** A routed operation on one upstream: a tool call, a prompt get, a resource read… */
export interface Invocation {
  method: string;
  upstream: string;
  /** The name (tool, prompt) or URI as the upstream knows it. */
  target: string;
  /** The name as the client saw it (after namespacing). */
  exposedName: string;
  arguments: Record<string, unknown>;
}

export interface Decision {
  verdict: 'allow' | 'deny';
  /** Ids of the policies that decided; empty when nothing decided (default deny or no engine). */
  policies: string[];
  errors: string[];
  policySetHash?: string;
  /** Set on a denial the caller could fix with more scope (→ 403 insufficient_scope). */
  missingScopes?: string[];
}

export interface IdentityStage {
  authenticate(req: IncomingMessage): Promise<Principal | Rejection>;
}

export interface PolicyStage {
  decide(principal: Principal, invocation: Invocation, ctx: RequestContext): Promise<Decision> | Decision;
  /** List-time filtering: may this principal see this tool/prompt/resource at all? */
  mayList(principal: Principal, kind: 'tool' | 'prompt' | 'resource', upstream: string, name: string): boolean;
}

export interface CredentialStage {
  /** Headers that carry the credential for this one call to this upstream. */
  credentialFor(principal: Principal, invocation: Invocation, ctx: RequestContext): Promise<Record<string, string>>;
}

export interface AuditEvent {
  kind: string;
  at: Date;
  requestId?: string;
  sessionId?: string;
  principal?: Principal;
  invocation?: Invocation;
  decision?: Decision;
  outcome?: { status: 'ok' | 'error'; isError?: boolean; latencyMs: number; error?: string };
  detail?: Record<string, unknown>;
}

export interface AuditSink {
  /** Resolves once the event is durable (fail closed: a call is forwarded only after this). */
  record(event: AuditEvent): Promise<void>;
}

export function isRejection(v: Principal | Rejection): v is Rejection {
  return 'status' in v;
}
