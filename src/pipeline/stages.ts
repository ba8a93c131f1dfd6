/**
 * The seams of the request path: identity → session → router → pipeline (server access,
 * arguments, policy, credentials, upstream), with audit as a sink. Each stage is one narrow
 * interface; the pipeline calls them in order and never reaches back. The typed refusals a
 * stage throws are in rejections.ts. The order and why: README.md in this folder.
 */
import type { IncomingMessage } from 'node:http';
import type { VisibilityKind } from '../protocol/item-kinds.js';
import type { JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js';

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
  /** The token's issuer (`iss`), when a token authenticated the caller. */
  issuer?: string;
  /** RFC 8693 `act` chain, current actor first (the agent), then whoever it acts for. */
  actors?: string[];
  /** Transport identity: the client certificate that was presented and verified (mTLS). */
  certificate?: { subject: string; sanUris: string[]; sanDns: string[]; thumbprint: string };
  /**
   * The validated inbound access token, kept only so the credential stage can exchange it
   * (RFC 8693 `subject_token`) for upstreams in `token_exchange` mode. Never logged, never
   * audited, never forwarded to an upstream.
   */
  subjectToken?: string;
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
  /** W3C traceparent, only a valid one (from the headers or the message's `_meta`). */
  traceparent?: string;
  /** W3C tracestate, only within the W3C limits and only with the traceparent it came with. */
  tracestate?: string;
  /** The instruction the call serves: the allow-listed baggage / `_meta` keys (`trace.instruction_keys`), values printable, at most 256 characters. */
  instruction?: Record<string, string>;
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
  /** Tools: the hash of the tool's definition as its upstream lists it (the record's `toolHash`). */
  definitionHash?: string;
  /**
   * The audit record that allowed this call, set by the audit stage once the decision record is
   * durable; the credential stage copies it into the per-call token's `audit` claim
   * ({ chain, pos, hash }) so the upstream can name the record that authorized it.
   */
  auditRef?: AuditRef;
}

/** Where one audit record sits: its chain (one per gateway instance), position, and leaf hash. */
export interface AuditRef {
  chain: string;
  position: number;
  hash: string;
}

export interface Decision {
  verdict: 'allow' | 'deny';
  /** Ids of the policies that decided; empty when nothing decided (default deny or no engine). */
  policies: string[];
  errors: string[];
  policySetHash?: string;
  /** Set on a denial the caller could fix with more scope (→ 403 insufficient_scope). */
  missingScopes?: string[];
  /** Shadow mode: what the candidate policy set would have decided (never enforced). */
  shadow?: { verdict: 'allow' | 'deny'; policies: string[]; errors: string[]; policySetHash?: string };
}

export interface IdentityStage {
  authenticate(req: IncomingMessage): Promise<Principal | Rejection>;
}

/**
 * Server access: may this principal reach this upstream at all? Each upstream may declare
 * baseline scopes (config `scopes`); a caller lacking any sees nothing of it and is asked for
 * them (403 insufficient_scope). Asked before anything else about an item.
 */
export interface ServerAccess {
  /** The scopes `principal` lacks to reach `upstream` at all; empty when it may. */
  missing(principal: Principal, upstream: string): readonly string[];
  /** Headers of the 403 that asks for `scopes` (RFC 6750 `insufficient_scope`). */
  refusalHeaders(scopes: readonly string[]): Record<string, string>;
}

/** A problem with a tool call's arguments: the offending field as a JSON pointer ('' for the whole object). */
export interface ArgumentProblem {
  field: string;
  message: string;
}

/** Argument validation against the tool's inputSchema: a problem, or undefined when they fit. */
export interface ArgumentCheck {
  check(inputSchema: unknown, args: unknown): ArgumentProblem | undefined;
}

export interface PolicyStage {
  decide(principal: Principal, invocation: Invocation, ctx: RequestContext): Promise<Decision> | Decision;
  /** List-time filtering: may this principal see this tool/prompt/resource at all? */
  mayList(principal: Principal, kind: VisibilityKind, upstream: string, name: string): boolean;
  /**
   * Optional. For an item mayList hides: scopes that would make it callable, if any (the router
   * then answers 403 insufficient_scope instead of "not found"). Undefined: hidden, answer as unknown.
   */
  scopesToCall?(principal: Principal, kind: VisibilityKind, upstream: string, name: string): string[] | undefined;
}

export interface CredentialStage {
  /** Headers that carry the credential for this one call to this upstream. */
  credentialFor(principal: Principal, invocation: Invocation, ctx: RequestContext): Promise<Record<string, string>>;
}

/**
 * Every kind of audit event: the listener's (`connection`: an accepted TLS connection), the
 * request path's (`list`, `auth`, `arguments`, `decision`, `server.request`, `outcome`,
 * `credential`), the sessions', a refusal by a limit per principal or stream (`limit`), the
 * catalog's (a definition that drifted from its pin) and the log's own chain records.
 */
export type AuditEventKind =
  | 'connection'
  | 'list'
  | 'auth'
  | 'arguments'
  | 'decision'
  | 'server.request'
  | 'outcome'
  | 'credential'
  | 'session.start'
  | 'session.end'
  | 'limit'
  | 'catalog'
  | 'chain.start'
  | 'chain.seal';

export interface AuditEvent {
  kind: AuditEventKind;
  at: Date;
  requestId?: string;
  sessionId?: string;
  principal?: Principal;
  invocation?: Invocation;
  decision?: Decision;
  outcome?: {
    status: 'ok' | 'error';
    isError?: boolean;
    latencyMs: number;
    error?: string;
    /** Size in bytes and SHA-256 (hex) of the JSON result; the content itself is never recorded. */
    resultBytes?: number;
    resultHash?: string;
  };
  detail?: Record<string, unknown>;
  /** The request this event belongs to (trace id, receipt time for latency). */
  context?: RequestContext;
  /** The record this one follows from, e.g. an outcome's decision. */
  links?: { decision?: AuditRef };
}

export interface AuditSink {
  /**
   * Resolves once the event is durable (fail closed: a call is forwarded only after this), with
   * the record's place in the log when the sink keeps one (the chained log does; memory does not).
   */
  record(event: AuditEvent): Promise<AuditRef | void>;
}

/** Where the pipeline sends what an upstream says during a call; the downstream side implements it. */
export interface ReplyChannel {
  /** Sends one message; false when nothing could be sent or kept. */
  send(message: JsonRpcMessage): boolean;
  /**
   * Backpressure: undefined while the client takes what is sent, else a promise that resolves
   * once it does again (or the channel ended). An upstream reader awaits it before reading on.
   */
  ready(): Promise<void> | undefined;
}

/** The downstream side of one request, as the pipeline needs it (the MCP server implements it). */
export interface Downstream {
  readonly principal: Principal;
  readonly sessionId?: string;
  /** Filter for notifications (log level). */
  wants(notification: JsonRpcNotification): boolean;
  /** Relays a server→client request on the channel of the call that caused it. */
  requestClient(channel: ReplyChannel, request: JsonRpcRequest, signal: AbortSignal): Promise<JsonRpcResponse>;
}

export function isRejection(v: Principal | Rejection): v is Rejection {
  return 'status' in v;
}
