/**
 * The request path for one routed item, read top to bottom: visible → validate → authorize →
 * credential → forward → record. Every list, call, get, read, completion and subscription asks
 * `visible` the same way; why the stages run in this order is in README.md.
 */
import { createHash } from 'node:crypto';
import { type CallMetricsSink, CallProbe } from '../metrics/call-probe.js';
import { type ItemKind, TOOLS, type VisibilityKind } from '../protocol/item-kinds.js';
import { ErrorCode, errorResponse, type JsonRpcId, type JsonRpcRequest, type JsonRpcResponse, resultResponse } from '../protocol/jsonrpc.js';
import { formatBaggage } from '../protocol/trace-context.js';
import type { CallSink } from '../upstream/client.js';
import type { UpstreamRegistry } from '../upstream/registry.js';
import { describeShape, shapeProblem } from './argument-shape.js';
import { argumentsEvent, decisionEvent, hiddenEvent, listEvent, outcomeEvent, refusalEvent, type Stage, serverAccessEvent, serverRequestEvent } from './events.js';
import { AuditError, InsufficientScope } from './rejections.js';
import type { ArgumentCheck, AuditRef, AuditSink, CredentialStage, Downstream, Invocation, PolicyStage, Principal, ReplyChannel, RequestContext, ServerAccess } from './stages.js';

export interface PipelineStages {
  policy: PolicyStage;
  credentials: CredentialStage;
  audit: AuditSink;
  /** Per-upstream baseline scopes; absent: every upstream is reachable. */
  serverAccess?: ServerAccess;
  /** Tool-argument validation against inputSchema; absent: none. */
  arguments?: ArgumentCheck;
  /** Call counts and step durations; absent: nothing is measured. */
  metrics?: CallMetricsSink;
}

/** One item a request routes to, as the downstream side resolved it. */
export interface RoutedItem {
  kind: ItemKind;
  invocation: Invocation;
  /** The request as the upstream gets it (its own names). */
  request: JsonRpcRequest;
  /** Tools: the inputSchema the arguments are checked against. */
  inputSchema?: unknown;
  /**
   * False for a name no upstream offers, routed by its prefix only: it is refused like that
   * upstream's hidden items (server access), else answered "not found".
   */
  offered: boolean;
}

/** Why an item is hidden from a principal. */
export type Hidden = { by: 'server access'; scopes: readonly string[] } | { by: 'policy' };

const HIDDEN_BY_POLICY: Hidden = Object.freeze({ by: 'policy' });
const NO_SCOPES: readonly string[] = Object.freeze([]);

/**
 * The answer for an item that does not exist — and, so that nothing can be enumerated, for one
 * the caller may not see or was denied.
 */
export function notFound(id: JsonRpcId, method: string, name: string): JsonRpcResponse {
  switch (method) {
    case 'tools/call':
      return errorResponse(id, ErrorCode.InvalidParams, `Tool ${name} not found`);
    case 'prompts/get':
      return errorResponse(id, ErrorCode.InvalidParams, `Prompt ${name} not found`);
    case 'resources/read':
      return errorResponse(id, ErrorCode.ResourceNotFound, `Resource not found: ${name}`, { uri: name });
    default:
      return errorResponse(id, ErrorCode.InvalidParams, `${method}: unknown reference`);
  }
}

/** The audit log refused the decision record: the call is not forwarded (fail closed). */
export function notRecorded(id: JsonRpcId): JsonRpcResponse {
  return errorResponse(id, ErrorCode.InternalError, 'toolgate could not record this call in its audit log, so it was not forwarded; try again later');
}

export class Pipeline {
  constructor(
    private readonly registry: UpstreamRegistry,
    private readonly stages: PipelineStages,
  ) {}

  /**
   * May `principal` see this item? Server access first (the upstream's baseline scopes), then
   * policy's list-visibility. The one question behind every list and every use of an item.
   */
  visible(principal: Principal, kind: VisibilityKind, upstream: string, name: string): true | Hidden {
    const missing = this.stages.serverAccess?.missing(principal, upstream) ?? NO_SCOPES;
    if (missing.length > 0) return { by: 'server access', scopes: missing };
    return this.stages.policy.mayList(principal, kind, upstream, name) ? true : HIDDEN_BY_POLICY;
  }

  /** The items of one list this caller may see; one summary audit record per list. */
  list(caller: Downstream, kind: ItemKind, ctx: RequestContext): unknown[] {
    const items: unknown[] = [];
    for (const e of this.registry.catalog.entries(kind.catalog)) {
      if (this.visible(caller.principal, kind.visibility, e.upstream, e.original) === true) items.push(e.item);
    }
    const total = this.registry.catalog.count(kind.catalog);
    this.stages.audit.record(listEvent(caller, ctx, kind.list, items.length, total - items.length)).catch(() => undefined);
    return items;
  }

  /** Headers of a 403 insufficient_scope answer. */
  refusalHeaders(scopes: readonly string[]): Record<string, string> {
    return this.stages.serverAccess?.refusalHeaders(scopes) ?? {};
  }

  /**
   * Runs one call through the stages and resolves with its final response. Throws
   * InsufficientScope (a refusal more scope would fix) and AuditError (a record not durable).
   * Whatever else refuses the call — params the audit log cannot hold, an exception in a stage
   * — is recorded as a denial with its reason and answered with a JSON-RPC error.
   */
  async call(caller: Downstream, channel: ReplyChannel, item: RoutedItem, ctx: RequestContext, signal: AbortSignal): Promise<JsonRpcResponse> {
    const metrics = this.stages.metrics;
    if (!metrics) return this.run(caller, channel, item, ctx, signal, undefined);
    // Unknown names are counted under '' (a client's guess never becomes a label value).
    const probe = new CallProbe(metrics, item.request.method, item.invocation.upstream, item.offered ? item.invocation.target : '');
    try {
      return await this.run(caller, channel, item, ctx, signal, probe);
    } catch (err) {
      probe.outcome = err instanceof InsufficientScope ? 'refused' : 'not_forwarded';
      throw err;
    } finally {
      probe.end();
    }
  }

  private async run(caller: Downstream, channel: ReplyChannel, item: RoutedItem, ctx: RequestContext, signal: AbortSignal, probe: CallProbe | undefined): Promise<JsonRpcResponse> {
    const { invocation, request } = item;
    // 0. Shape, before anything serialises, hashes or walks the params: a value no record can
    // hold is replaced by a placeholder in every record of this call, so each one is writable.
    const shape = shapeProblem(request.params);
    const unfit = shape ? describeShape(shape) : undefined;
    if (unfit !== undefined) invocation.arguments = { _refused: unfit };
    let stage: Stage = 'visible';
    let decisionRef: AuditRef | undefined;
    try {
      // 1. Visible: before anything reads the arguments, so a hidden item cannot be probed.
      const seen = this.visible(caller.principal, item.kind.visibility, invocation.upstream, invocation.target);
      probe?.lap('visible');
      if (probe && seen !== true) probe.outcome = 'refused';
      if (seen !== true && seen.by === 'server access') return await this.refuseServerAccess(caller, invocation, seen.scopes, ctx);
      if (!item.offered) return notFound(request.id, request.method, invocation.exposedName);
      if (seen !== true) return await this.refuseHidden(caller, item, ctx, probe);
      // 2. Validate: the params can be recorded and walked; a tool's arguments fit its own
      // inputSchema, before policy reads them.
      stage = 'validate';
      if (unfit !== undefined && probe) probe.outcome = 'refused';
      if (unfit !== undefined) return await this.refuse(caller, item, ctx, unfit, errorResponse(request.id, ErrorCode.InvalidParams, `Invalid params: ${unfit}`));
      const problem = item.kind === TOOLS ? this.stages.arguments?.check(item.inputSchema, invocation.arguments) : undefined;
      probe?.lap('validate');
      if (problem) {
        if (probe) probe.outcome = 'refused';
        await this.stages.audit.record(argumentsEvent(caller, ctx, invocation, problem));
        const text = `Invalid arguments for tool ${invocation.exposedName}: ${problem.field ? `${problem.field} ` : ''}${problem.message}`;
        return resultResponse(request.id, { content: [{ type: 'text', text }], isError: true });
      }
      const client = this.registry.get(invocation.upstream);
      if (!client) return notFound(request.id, request.method, invocation.exposedName);
      // 3. Authorize: the policy decides synchronously (no await, no microtask turn) unless a
      // stage is async; the decision record is durable before anything is forwarded (fail closed).
      stage = 'authorize';
      const decided = this.stages.policy.decide(caller.principal, invocation, ctx);
      const decision = decided instanceof Promise ? await decided : decided;
      if (probe) {
        probe.lap('authorize');
        probe.verdict = decision.verdict === 'allow' ? 'allow' : 'deny';
        if (decision.verdict !== 'allow') probe.outcome = 'refused';
      }
      try {
        decisionRef = (await this.stages.audit.record(decisionEvent(caller, ctx, invocation, decision))) || undefined;
      } catch {
        if (probe) probe.outcome = 'not_forwarded';
        return notRecorded(request.id);
      }
      probe?.lap('audit_commit');
      if (decisionRef) invocation.auditRef = decisionRef;
      if (decision.verdict !== 'allow' && decision.missingScopes && decision.missingScopes.length > 0)
        throw new InsufficientScope(decision.missingScopes, `policy denied: needs ${decision.missingScopes.join(' ')}`);
      if (decision.verdict !== 'allow') return notFound(request.id, request.method, invocation.exposedName);
      // 4. Credential: what this one call carries to this upstream.
      stage = 'credential';
      const headers = await this.stages.credentials.credentialFor(caller.principal, invocation, ctx);
      // Passed on as it came (same trace, same parent); baggage only with the instruction's keys.
      if (ctx.traceparent) {
        headers.traceparent = ctx.traceparent;
        if (ctx.tracestate) headers.tracestate = ctx.tracestate;
      }
      if (ctx.instruction) headers.baggage = formatBaggage(ctx.instruction);
      headers['x-request-id'] = ctx.requestId;
      probe?.lap('credential');
      // 5. Forward, relaying what the upstream says meanwhile.
      stage = 'forward';
      const ref = decisionRef;
      const sink: CallSink = {
        notify: (n) => {
          if (caller.wants(n)) channel.send(n);
        },
        // A server→client request (sampling, elicitation, roots) is relayed only once recorded.
        request: async (r, s) => {
          try {
            await this.stages.audit.record(serverRequestEvent(caller, ctx, invocation, r.method, ref));
          } catch {
            return errorResponse(r.id, ErrorCode.InternalError, 'toolgate could not record this request in its audit log, so it was not relayed to the client');
          }
          return caller.requestClient(channel, r, s);
        },
        // A slow client pauses the upstream's stream where the transport can (HTTP).
        flow: channel,
      };
      const started = performance.now();
      const response = await client.forward(request, { sink, headers, signal });
      const latencyMs = performance.now() - started;
      if (probe) {
        probe.lap('upstream');
        probe.outcome = 'error' in response ? 'error' : (response as { result: { isError?: unknown } }).result.isError === true ? 'tool_error' : 'ok';
      }
      // 6. Record: the call has happened; the outcome record (serialising and hashing the result)
      // runs after the answer is on its way, and its failure (the sink logs it) must not turn a
      // completed call into an error for the client.
      setImmediate(() => this.recordOutcome(caller, invocation, ctx, response, latencyMs, ref));
      return response;
    } catch (err) {
      if (err instanceof InsufficientScope || err instanceof AuditError) throw err;
      if (probe) probe.outcome = stage === 'forward' ? 'error' : 'not_forwarded';
      return this.failed(caller, item, ctx, stage, err, decisionRef);
    }
  }

  /** A call refused before policy decides (params no record can hold): a denial with its reason, then `answer`. */
  private async refuse(caller: Downstream, item: RoutedItem, ctx: RequestContext, reason: string, answer: JsonRpcResponse): Promise<JsonRpcResponse> {
    // The refusal stands whether or not its record is written (the sink logs a failed write).
    await this.stages.audit.record(refusalEvent(caller, ctx, item.invocation, reason)).catch(() => undefined);
    return answer;
  }

  /**
   * An exception in a stage. Before forwarding: the call was not made — recorded as a denial
   * naming the stage and the error (linked to the decision that allowed it, if there was one).
   * While forwarding: the call may have reached the upstream — recorded as its outcome. The
   * client is told which step failed and the request id to look it up by, never the error.
   */
  private async failed(caller: Downstream, item: RoutedItem, ctx: RequestContext, stage: Stage, err: unknown, decisionRef: AuditRef | void): Promise<JsonRpcResponse> {
    const { invocation, request } = item;
    const message = err instanceof Error ? err.message : String(err);
    if (stage === 'forward') {
      const outcome = { status: 'error' as const, latencyMs: 0, error: `forwarding failed: ${message}` };
      this.stages.audit.record(outcomeEvent(caller, ctx, invocation, outcome, decisionRef)).catch(() => undefined);
      return errorResponse(request.id, ErrorCode.InternalError, `toolgate could not forward this call to ${invocation.upstream} (request ${ctx.requestId})`);
    }
    await this.stages.audit.record(refusalEvent(caller, ctx, invocation, `the ${stage} step failed: ${message}`, stage, decisionRef)).catch(() => undefined);
    // A stage error made to be shown (a credential error's `told`: the upstream and a code) is.
    const told = (err as { told?: unknown } | null)?.told;
    return errorResponse(
      request.id,
      ErrorCode.InternalError,
      `toolgate could not complete the ${stage} step for this call, so it was not forwarded${typeof told === 'string' ? `: ${told}` : ''} (request ${ctx.requestId})`,
    );
  }

  /** Server access refused: audited, then answered 403 asking for the baseline scopes. */
  private async refuseServerAccess(caller: Downstream, invocation: Invocation, scopes: readonly string[], ctx: RequestContext): Promise<never> {
    const reason = `principal lacks baseline scope(s) ${scopes.join(' ')} of upstream ${invocation.upstream} (has: ${caller.principal.scopes.join(' ') || 'none'})`;
    await this.stages.audit.record(serverAccessEvent(caller, ctx, invocation, scopes, reason));
    throw new InsufficientScope(scopes, reason);
  }

  /**
   * Hidden by policy: answered like an unknown name, but the attempt and the policy that hid it
   * are audited. The exception: hidden only for want of a scope the caller can ask for → 403.
   */
  private async refuseHidden(caller: Downstream, item: RoutedItem, ctx: RequestContext, probe: CallProbe | undefined): Promise<JsonRpcResponse> {
    const { invocation, request } = item;
    probe?.skip();
    const decision = await this.stages.policy.decide(caller.principal, invocation, ctx);
    if (probe) {
      probe.lap('authorize');
      probe.verdict = decision.verdict === 'allow' ? 'allow' : 'deny';
    }
    await this.stages.audit.record(hiddenEvent(caller, ctx, invocation, decision));
    const fix = this.stages.policy.scopesToCall?.(caller.principal, item.kind.visibility, invocation.upstream, invocation.target);
    if (fix && fix.length > 0) throw new InsufficientScope(fix, `policy: ${invocation.exposedName} needs scope ${fix.join(' ')}`);
    return notFound(request.id, request.method, invocation.exposedName);
  }

  private recordOutcome(caller: Downstream, invocation: Invocation, ctx: RequestContext, response: JsonRpcResponse, latencyMs: number, decisionRef: AuditRef | void): void {
    const failed = 'error' in response;
    // The result's size and hash are recorded, never its content.
    const result = failed ? undefined : JSON.stringify((response as { result: unknown }).result);
    const outcome = {
      status: failed ? ('error' as const) : ('ok' as const),
      isError: !failed && (response as { result: Record<string, unknown> }).result.isError === true,
      latencyMs,
      ...(failed ? { error: (response as { error: { message: string } }).error.message } : {}),
      ...(result === undefined ? {} : { resultBytes: Buffer.byteLength(result), resultHash: createHash('sha256').update(result).digest('hex') }),
    };
    this.stages.audit.record(outcomeEvent(caller, ctx, invocation, outcome, decisionRef)).catch(() => undefined);
  }
}
