import { createHash, randomUUID } from 'node:crypto';
import type { UpstreamRegistry } from '../upstream/registry.js';
import type { CatalogEntry, CatalogKind } from '../catalog/catalog.js';
import type { AuditRef, AuditSink, CredentialStage, Invocation, PolicyStage, RequestContext } from './stages.js';
import type { Caller } from '../mcp/caller.js';
import type { MessageChannel } from '../mcp/channel.js';
import { ErrorCode, errorResponse, resultResponse, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { SubscriptionTable } from '../mcp/subscriptions.js';
import type { CallSink } from '../upstream/client.js';
import { InsufficientScope, type ServerAccess } from '../identity/server-access.js';
import type { ArgumentCheck } from '../policy/arguments.js';
import { AuditError } from '../audit/errors.js';

export interface DispatchStages {
  policy: PolicyStage;
  credentials: CredentialStage;
  audit: AuditSink;
  /** Server layer: per-upstream baseline scopes (src/identity/server-access.ts); absent: none. */
  access?: ServerAccess;
  /** Tool-argument validation against inputSchema (src/policy/arguments.ts); absent: none. */
  arguments?: ArgumentCheck;
}

const LISTS: Record<string, { kind: CatalogKind; field: string; visibility: 'tool' | 'prompt' | 'resource' }> = {
  'tools/list': { kind: 'tools', field: 'tools', visibility: 'tool' },
  'prompts/list': { kind: 'prompts', field: 'prompts', visibility: 'prompt' },
  'resources/list': { kind: 'resources', field: 'resources', visibility: 'resource' },
  'resources/templates/list': { kind: 'resourceTemplates', field: 'resourceTemplates', visibility: 'resource' },
};

/**
 * The router: answers what the gateway answers itself (ping, lists, log level, subscriptions)
 * and sends everything else to the one upstream that owns it, through policy and credentials.
 * Writes the final response for `request` to `channel`, always.
 */
export class Dispatcher {
  constructor(
    private readonly registry: UpstreamRegistry,
    private readonly stages: DispatchStages,
    private readonly subscriptions: SubscriptionTable,
  ) {}

  async handle(caller: Caller, request: JsonRpcRequest, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<void> {
    let response: JsonRpcResponse | undefined;
    try {
      response = await this.answer(caller, request, channel, ctx, signal);
    } catch (err) {
      if (err instanceof InsufficientScope) {
        // MCP authorization: a scope the caller could obtain is asked for with HTTP 403.
        const denied = errorResponse(request.id, ErrorCode.InvalidRequest, `Forbidden: insufficient scope; this needs ${err.scopes.join(' ')}`, { scopes: err.scopes });
        if (!signal.aborted && channel.refuse(403, this.stages.access?.refusalHeaders(err.scopes) ?? {}, denied)) return;
        response = denied;
      } else if (err instanceof AuditError) {
        // An audit record could not be written: refused (nothing forwarded); store details stay in the log.
        response = errorResponse(request.id, ErrorCode.InternalError, 'toolgate could not record this call in its audit log, so it was not forwarded; try again later');
      } else response = errorResponse(request.id, ErrorCode.InternalError, `toolgate failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (signal.aborted) channel.close();
    else channel.send(caller.present ? caller.present(request.method, response) : response);
  }

  private async answer(caller: Caller, request: JsonRpcRequest, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<JsonRpcResponse> {
    const list = LISTS[request.method];
    if (list) {
      const items = this.visible(caller, list.kind, list.visibility);
      // One summary record per list call: how much of the catalog this caller was shown.
      const total = this.registry.catalog.count(list.kind);
      this.stages.audit
        .record({ kind: 'list', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, context: ctx, detail: { method: request.method, shown: items.length, hidden: total - items.length } })
        .catch(() => undefined);
      return resultResponse(request.id, { [list.field]: items });
    }
    switch (request.method) {
      case 'ping':
        return resultResponse(request.id, {});
      case 'logging/setLevel':
        return this.setLogLevel(caller, request);
      case 'tools/call':
        return this.routeNamed(caller, request, 'tools', channel, ctx, signal);
      case 'prompts/get':
        return this.routeNamed(caller, request, 'prompts', channel, ctx, signal);
      case 'resources/read':
        return this.routeResource(caller, request, channel, ctx, signal);
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.subscription(caller, request);
      case 'completion/complete':
        return this.complete(caller, request, channel, ctx, signal);
      default:
        return errorResponse(request.id, ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    }
  }

  private visible(caller: Caller, kind: CatalogKind, visibility: 'tool' | 'prompt' | 'resource'): unknown[] {
    const out: unknown[] = [];
    for (const e of this.registry.catalog.entries(kind)) {
      if (this.stages.access && this.stages.access.missing(caller.principal, e.upstream).length > 0) continue;
      if (this.stages.policy.mayList(caller.principal, visibility, e.upstream, e.original)) out.push(e.item);
    }
    return out;
  }

  private async routeNamed(caller: Caller, request: JsonRpcRequest, kind: 'tools' | 'prompts', channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<JsonRpcResponse> {
    const params = request.params ?? {};
    const name = params.name;
    const noun = kind === 'tools' ? 'Tool' : 'Prompt';
    if (typeof name !== 'string') return errorResponse(request.id, ErrorCode.InvalidParams, `${kind === 'tools' ? 'tools/call' : 'prompts/get'} needs a string "name"`);
    const entry = this.registry.catalog.resolve(kind, name);
    // Unknown, hidden and denied answer alike, so a caller cannot enumerate what exists.
    const unknown = errorResponse(request.id, ErrorCode.InvalidParams, `${noun} ${name} not found`);
    if (!entry) return unknown;
    const args = (params.arguments ?? {}) as Record<string, unknown>;
    const invocation: Invocation = { method: request.method, upstream: entry.upstream, target: entry.original, exposedName: name, arguments: args };
    if (!this.stages.policy.mayList(caller.principal, kind === 'tools' ? 'tool' : 'prompt', entry.upstream, entry.original)) {
      // Hidden: answered like an unknown name, but the attempt and the policy that hid it are audited.
      const decision = await this.stages.policy.decide(caller.principal, invocation, ctx);
      await this.stages.audit.record({ kind: 'decision', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, invocation, decision, detail: { hidden: true } });
      // The exception: hidden only for want of a scope the caller can ask for → 403 insufficient_scope.
      const fix = this.stages.policy.scopesToCall?.(caller.principal, kind === 'tools' ? 'tool' : 'prompt', entry.upstream, entry.original);
      if (fix && fix.length > 0) throw new InsufficientScope(fix, `policy: ${name} needs scope ${fix.join(' ')}`);
      return unknown;
    }
    // Arguments are checked against the tool's inputSchema before policy sees them (and only
    // after the visibility check, so a hidden tool's schema cannot be probed).
    const problem = kind === 'tools' ? this.stages.arguments?.check(entry.item.inputSchema, args) : undefined;
    if (problem) {
      const text = `Invalid arguments for tool ${name}: ${problem.field ? `${problem.field} ` : ''}${problem.message}`;
      await this.stages.audit.record({ kind: 'arguments', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, invocation, detail: { outcome: 'invalid_arguments', field: problem.field, reason: problem.message } });
      return resultResponse(request.id, { content: [{ type: 'text', text }], isError: true });
    }
    const renamed: JsonRpcRequest = { ...request, params: { ...params, name: entry.original } };
    return this.forward(caller, renamed, invocation, channel, ctx, signal, unknown);
  }

  private async routeResource(caller: Caller, request: JsonRpcRequest, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<JsonRpcResponse> {
    const uri = request.params?.uri;
    if (typeof uri !== 'string') return errorResponse(request.id, ErrorCode.InvalidParams, 'resources/read needs a string "uri"');
    const upstream = this.registry.catalog.resolveResource(uri);
    const unknown = errorResponse(request.id, ErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri });
    if (!upstream || !this.stages.policy.mayList(caller.principal, 'resource', upstream, uri)) return unknown;
    const invocation: Invocation = { method: request.method, upstream, target: uri, exposedName: uri, arguments: {} };
    return this.forward(caller, request, invocation, channel, ctx, signal, unknown);
  }

  private async complete(caller: Caller, request: JsonRpcRequest, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<JsonRpcResponse> {
    const params = request.params ?? {};
    const ref = (params.ref ?? {}) as Record<string, unknown>;
    let entry: Pick<CatalogEntry, 'upstream' | 'original'> | undefined;
    let outgoing = request;
    if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
      const e = this.registry.catalog.resolve('prompts', ref.name);
      if (e && this.stages.policy.mayList(caller.principal, 'prompt', e.upstream, e.original)) {
        entry = e;
        outgoing = { ...request, params: { ...params, ref: { ...ref, name: e.original } } };
      }
    } else if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
      const upstream = this.registry.catalog.resolveTemplate(ref.uri);
      if (upstream && this.stages.policy.mayList(caller.principal, 'resource', upstream, ref.uri)) entry = { upstream, original: ref.uri };
    }
    const unknown = errorResponse(request.id, ErrorCode.InvalidParams, 'completion/complete: unknown reference');
    if (!entry) return unknown;
    const invocation: Invocation = { method: request.method, upstream: entry.upstream, target: entry.original, exposedName: String(ref.name ?? ref.uri), arguments: (params.argument ?? {}) as Record<string, unknown> };
    return this.forward(caller, outgoing, invocation, channel, ctx, signal, unknown);
  }

  /** The last three stages of the path: policy decision, per-call credential, upstream. */
  private async forward(caller: Caller, request: JsonRpcRequest, invocation: Invocation, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal, denial: JsonRpcResponse): Promise<JsonRpcResponse> {
    const client = this.registry.get(invocation.upstream);
    if (!client) return denial;
    const missingBaseline = this.stages.access?.missing(caller.principal, invocation.upstream) ?? [];
    if (missingBaseline.length > 0) {
      const reason = `principal lacks baseline scope(s) ${missingBaseline.join(' ')} of upstream ${invocation.upstream} (has: ${caller.principal.scopes.join(' ') || 'none'})`;
      await this.stages.audit.record({ kind: 'auth', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, invocation, detail: { outcome: 'insufficient_scope', reason, scopes: missingBaseline } });
      throw new InsufficientScope(missingBaseline, reason);
    }
    // The policy stage decides synchronously: no await (and no microtask turn) unless a stage is async.
    const decided = this.stages.policy.decide(caller.principal, invocation, ctx);
    const decision = decided instanceof Promise ? await decided : decided;
    // Fail closed: a call whose decision record is not durable is refused, never forwarded.
    let decisionRef: AuditRef | void;
    try {
      decisionRef = await this.stages.audit.record({ kind: 'decision', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, invocation, decision, context: ctx });
    } catch {
      return errorResponse(request.id, ErrorCode.InternalError, 'toolgate could not record this call in its audit log, so it was not forwarded; try again later');
    }
    if (decisionRef) invocation.auditRef = decisionRef;
    if (decision.verdict !== 'allow' && decision.missingScopes && decision.missingScopes.length > 0) throw new InsufficientScope(decision.missingScopes, `policy denied: needs ${decision.missingScopes.join(' ')}`);
    if (decision.verdict !== 'allow') return denial;
    const headers = await this.stages.credentials.credentialFor(caller.principal, invocation, ctx);
    if (ctx.traceparent) headers.traceparent = ctx.traceparent;
    headers['x-request-id'] = ctx.requestId;
    const sink: CallSink = {
      notify: (n) => {
        if (caller.wants(n)) channel.send(n);
      },
      // A server→client request (sampling, elicitation, roots) is relayed only once recorded.
      request: async (r, s) => {
        try {
          await this.stages.audit.record({ kind: 'server.request', at: new Date(), requestId: ctx.requestId, sessionId: caller.sessionId, principal: caller.principal, invocation, context: ctx, ...(decisionRef ? { links: { decision: decisionRef } } : {}), detail: { method: r.method } });
        } catch {
          return errorResponse(r.id, ErrorCode.InternalError, 'toolgate could not record this request in its audit log, so it was not relayed to the client');
        }
        return caller.requestClient(channel, r, s);
      },
    };
    const started = performance.now();
    const response = await client.forward(request, { sink, headers, signal });
    const latencyMs = performance.now() - started;
    // The call has happened: the outcome record (serialising and hashing the result) runs after
    // the answer is on its way, and its failure (the sink logs it) must not turn a completed call
    // into an error for the client.
    setImmediate(() => this.recordOutcome(caller, invocation, ctx, response, latencyMs, decisionRef));
    return response;
  }

  private recordOutcome(caller: Caller, invocation: Invocation, ctx: RequestContext, response: JsonRpcResponse, latencyMs: number, decisionRef: AuditRef | void): void {
    const failed = 'error' in response;
    // The result's size and hash are recorded, never its content.
    const result = failed ? undefined : JSON.stringify((response as { result: unknown }).result);
    this.stages.audit
      .record({
        kind: 'outcome',
        at: new Date(),
        requestId: ctx.requestId,
        sessionId: caller.sessionId,
        principal: caller.principal,
        invocation,
        context: ctx,
        ...(decisionRef ? { links: { decision: decisionRef } } : {}),
        outcome: {
          status: failed ? 'error' : 'ok',
          isError: !failed && (response as { result: Record<string, unknown> }).result.isError === true,
          latencyMs,
          ...(failed ? { error: (response as { error: { message: string } }).error.message } : {}),
          ...(result === undefined ? {} : { resultBytes: Buffer.byteLength(result), resultHash: createHash('sha256').update(result).digest('hex') }),
        },
      })
      .catch(() => undefined);
  }

  private async setLogLevel(caller: Caller, request: JsonRpcRequest): Promise<JsonRpcResponse> {
    if (!caller.setLogLevel(request.params?.level)) {
      return errorResponse(request.id, ErrorCode.InvalidParams, 'logging/setLevel needs a level: debug, info, notice, warning, error, critical, alert or emergency');
    }
    // Upstream connections are shared: each upstream is asked for everything the most verbose
    // session wants; each session then sees only what its own level lets through.
    await Promise.all(
      [...this.registry.clients.values()]
        .filter((c) => c.state === 'ready' && c.era === 'legacy' && 'logging' in c.serverCapabilities)
        .map((c) => c.call('logging/setLevel', { level: 'debug' }).catch(() => undefined)),
    );
    return resultResponse(request.id, {});
  }

  private async subscription(caller: Caller, request: JsonRpcRequest): Promise<JsonRpcResponse> {
    const uri = request.params?.uri;
    if (typeof uri !== 'string') return errorResponse(request.id, ErrorCode.InvalidParams, `${request.method} needs a string "uri"`);
    if (!caller.subscriptions || !caller.sessionId) return errorResponse(request.id, ErrorCode.MethodNotFound, `${request.method} needs a session`);
    const upstream = this.registry.catalog.resolveResource(uri);
    if (!upstream || !this.stages.policy.mayList(caller.principal, 'resource', upstream, uri) || (this.stages.access?.missing(caller.principal, upstream).length ?? 0) > 0) {
      return errorResponse(request.id, ErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri });
    }
    const client = this.registry.get(upstream)!;
    if (request.method === 'resources/subscribe') {
      caller.subscriptions.add(uri);
      if (this.subscriptions.add(uri, caller.sessionId)) {
        const r = await client.forward({ ...request, id: randomUUID() });
        if ('error' in r) {
          this.subscriptions.remove(uri, caller.sessionId);
          caller.subscriptions.delete(uri);
          return { ...r, id: request.id };
        }
      }
    } else {
      caller.subscriptions.delete(uri);
      if (this.subscriptions.remove(uri, caller.sessionId)) await client.forward({ ...request, id: randomUUID() });
    }
    return resultResponse(request.id, {});
  }
}
