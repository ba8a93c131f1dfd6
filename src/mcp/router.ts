import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { notFound, type Pipeline, type RoutedItem } from '../pipeline/pipeline.js';
import { AuditError, InsufficientScope } from '../pipeline/rejections.js';
import type { RequestContext } from '../pipeline/stages.js';
import { type ItemKind, listedBy, PROMPTS, RESOURCE_TEMPLATES, RESOURCES, TOOLS } from '../protocol/item-kinds.js';
import { ErrorCode, errorResponse, type JsonRpcRequest, type JsonRpcResponse, resultResponse } from '../protocol/jsonrpc.js';
import type { UpstreamRegistry } from '../upstream/registry.js';
import type { Caller } from './caller.js';
import type { MessageChannel } from './channel.js';
import type { SubscriptionTable } from './subscriptions.js';

/**
 * The router: which method is answered how. The gateway answers some itself (ping, log level,
 * subscriptions, the lists); a call, get, read or completion is resolved to the one item it
 * names and run through the pipeline (src/pipeline). Writes the final response for `request`
 * to `channel`, always, and turns the pipeline's typed refusals into answers.
 */
export class Router {
  constructor(
    private readonly registry: UpstreamRegistry,
    private readonly pipeline: Pipeline,
    private readonly subscriptions: SubscriptionTable,
    private readonly log?: Logger,
  ) {}

  async handle(caller: Caller, request: JsonRpcRequest, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<void> {
    let response: JsonRpcResponse | undefined;
    try {
      response = await this.answer(caller, request, channel, ctx, signal);
    } catch (err) {
      if (err instanceof InsufficientScope) {
        // MCP authorization: a scope the caller could obtain is asked for with HTTP 403.
        const denied = errorResponse(request.id, ErrorCode.InvalidRequest, `Forbidden: insufficient scope; this needs ${err.scopes.join(' ')}`, { scopes: err.scopes });
        if (!signal.aborted && channel.refuse(403, this.pipeline.refusalHeaders(err.scopes), denied)) return;
        response = denied;
      } else if (err instanceof AuditError) {
        // An audit record could not be written: refused (nothing forwarded); store details stay in the log.
        response = errorResponse(request.id, ErrorCode.InternalError, 'toolgate could not record this call in its audit log, so it was not forwarded; try again later');
      } else {
        // Outside the pipeline (which records and answers its own failures): the client gets the
        // request id, the log gets the error; never its text or stack on the wire.
        this.log?.log('error', `${request.method} (request ${ctx.requestId}) failed: ${err instanceof Error ? err.message : String(err)}`);
        response = errorResponse(request.id, ErrorCode.InternalError, `toolgate could not answer ${request.method} (internal error; request ${ctx.requestId})`);
      }
    }
    if (signal.aborted) channel.close();
    else channel.send(caller.present ? caller.present(request.method, response) : response);
  }

  private async answer(caller: Caller, request: JsonRpcRequest, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<JsonRpcResponse> {
    const listed = listedBy(request.method);
    if (listed) return resultResponse(request.id, { [listed.field]: this.pipeline.list(caller, listed, ctx) });
    switch (request.method) {
      case 'ping':
        return resultResponse(request.id, {});
      case 'logging/setLevel':
        return this.setLogLevel(caller, request);
      case 'tools/call':
        return this.named(caller, request, TOOLS, channel, ctx, signal);
      case 'prompts/get':
        return this.named(caller, request, PROMPTS, channel, ctx, signal);
      case 'resources/read':
        return this.resource(caller, request, channel, ctx, signal);
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.subscription(caller, request);
      case 'completion/complete':
        return this.complete(caller, request, channel, ctx, signal);
      default:
        return errorResponse(request.id, ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    }
  }

  /** tools/call and prompts/get: the exposed name → its upstream and the name the upstream knows. */
  private named(
    caller: Caller,
    request: JsonRpcRequest,
    kind: ItemKind,
    channel: MessageChannel,
    ctx: RequestContext,
    signal: AbortSignal,
  ): Promise<JsonRpcResponse> | JsonRpcResponse {
    const params = request.params ?? {};
    const name = params.name;
    if (typeof name !== 'string') return errorResponse(request.id, ErrorCode.InvalidParams, `${kind.use} needs a string "name"`);
    const entry = this.registry.catalog.resolve(kind === TOOLS ? 'tools' : 'prompts', name);
    // A name nobody offers still belongs to the upstream whose prefix it carries: it is refused
    // like that upstream's hidden items, so offered and invented names cannot be told apart.
    const owner = entry ?? this.registry.catalog.ownerOf(name);
    if (!owner) return notFound(request.id, request.method, name);
    const item: RoutedItem = {
      kind,
      invocation: {
        method: request.method,
        upstream: owner.upstream,
        target: owner.original,
        exposedName: name,
        arguments: (params.arguments ?? {}) as Record<string, unknown>,
        definitionHash: entry?.definitionHash,
      },
      request: entry ? { ...request, params: { ...params, name: entry.original } } : request,
      inputSchema: entry?.item.inputSchema,
      offered: entry !== undefined,
    };
    return this.pipeline.call(caller, channel, item, ctx, signal);
  }

  private resource(caller: Caller, request: JsonRpcRequest, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<JsonRpcResponse> | JsonRpcResponse {
    const uri = request.params?.uri;
    if (typeof uri !== 'string') return errorResponse(request.id, ErrorCode.InvalidParams, 'resources/read needs a string "uri"');
    const upstream = this.registry.catalog.resolveResource(uri);
    if (!upstream) return notFound(request.id, request.method, uri);
    const invocation = { method: request.method, upstream, target: uri, exposedName: uri, arguments: {} };
    return this.pipeline.call(caller, channel, { kind: RESOURCES, invocation, request, offered: true }, ctx, signal);
  }

  private complete(caller: Caller, request: JsonRpcRequest, channel: MessageChannel, ctx: RequestContext, signal: AbortSignal): Promise<JsonRpcResponse> | JsonRpcResponse {
    const params = request.params ?? {};
    const ref = (params.ref ?? {}) as Record<string, unknown>;
    const args = (params.argument ?? {}) as Record<string, unknown>;
    const exposedName = String(ref.name ?? ref.uri);
    if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
      const e = this.registry.catalog.resolve('prompts', ref.name);
      if (e) {
        const outgoing = { ...request, params: { ...params, ref: { ...ref, name: e.original } } };
        const invocation = { method: request.method, upstream: e.upstream, target: e.original, exposedName, arguments: args };
        return this.pipeline.call(caller, channel, { kind: PROMPTS, invocation, request: outgoing, offered: true }, ctx, signal);
      }
    } else if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
      const upstream = this.registry.catalog.resolveTemplate(ref.uri);
      if (upstream) {
        const invocation = { method: request.method, upstream, target: ref.uri, exposedName, arguments: args };
        return this.pipeline.call(caller, channel, { kind: RESOURCE_TEMPLATES, invocation, request, offered: true }, ctx, signal);
      }
    }
    return notFound(request.id, request.method, exposedName);
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
    // Hidden for whatever reason: answered as an unknown resource (a subscription asks for nothing).
    if (!upstream || this.pipeline.visible(caller.principal, RESOURCES.visibility, upstream, uri) !== true) {
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
