import type { UpstreamConfig } from '../config/types.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import { UpstreamTransportError } from '../upstream/transport.js';
import { LATEST_LEGACY_VERSION } from './eras.js';
import {
  ErrorCode,
  errorResponse,
  isErrorResponse,
  isNotification,
  isRequest,
  isResponse,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from './jsonrpc.js';

/** Where an upstream's messages about one forwarded call go (the downstream request's stream). */
export interface CallSink {
  /** A notification about this call: progress (token already mapped back), logging, … */
  notify(notification: JsonRpcNotification): void;
  /** A server→client request made while serving this call; resolves with the client's answer. */
  request(request: JsonRpcRequest, signal: AbortSignal): Promise<JsonRpcResponse>;
}

export interface ForwardOptions {
  sink?: CallSink;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface UpstreamEvents {
  /** The upstream said its tools/prompts/resources changed, or it (re)connected. */
  listChanged(kind: 'tools' | 'prompts' | 'resources' | 'all'): void;
  resourceUpdated(notification: JsonRpcNotification): void;
  /** A message the gateway could not attribute to any call (dropped, counted). */
  unrouted(message: JsonRpcMessage, why: string): void;
  stateChanged(state: UpstreamState): void;
}

export type UpstreamState = 'starting' | 'ready' | 'down';

interface Pending {
  resolve: (r: JsonRpcResponse) => void;
  sink?: CallSink;
  /** The client's own progress token, restored on every progress notification. */
  clientProgressToken?: string | number;
  timer?: NodeJS.Timeout;
  timeoutMs: number;
  method: string;
}

/** MCP client side of one upstream: handshake, id and progress-token mapping, routing of what comes back. */
export class UpstreamClient {
  readonly id: string;
  state: UpstreamState = 'starting';
  lastError?: string;
  protocolVersion = LATEST_LEGACY_VERSION;
  serverCapabilities: Record<string, unknown> = {};
  serverInfo: Record<string, unknown> = {};
  instructions?: string;
  restarts = 0;
  unroutedCount = 0;

  private transport: UpstreamTransport | undefined;
  private nextId = 1;
  private readonly pending = new Map<JsonRpcId, Pending>();
  /** Server→client requests in flight, by the upstream's id: aborted when the upstream cancels them. */
  private readonly serverRequests = new Map<JsonRpcId, AbortController>();
  private closed = false;
  private restartTimer?: NodeJS.Timeout;
  private backoffMs = 500;

  constructor(
    readonly config: UpstreamConfig,
    private readonly makeTransport: () => UpstreamTransport,
    private readonly events: UpstreamEvents,
  ) {
    this.id = config.id;
  }

  /** Connects and performs the handshake. Never throws: failure leaves the upstream 'down' and retrying. */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      this.markDown(errMessage(err));
      this.scheduleRestart();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.failAll(`upstream ${this.id} is shutting down`);
    await this.transport?.close().catch(() => undefined);
  }

  /** A request the gateway itself makes (listing, subscribing). Rejects with a message naming the upstream. */
  async call(method: string, params?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>> {
    const response = await this.forward({ jsonrpc: '2.0', id: 0, method, ...(params ? { params } : {}) }, { timeoutMs });
    if (isErrorResponse(response)) {
      throw new UpstreamCallError(this.id, method, response.error.code, response.error.message);
    }
    return response.result;
  }

  /**
   * Forwards a client's request (its id is replaced; the answer comes back with the same id the
   * caller passed). Always resolves: transport failures and timeouts become JSON-RPC errors
   * naming this upstream.
   */
  forward(request: JsonRpcRequest, opts: ForwardOptions = {}): Promise<JsonRpcResponse> {
    const clientId = request.id;
    const restore = (r: JsonRpcResponse): JsonRpcResponse => ({ ...r, id: clientId }) as JsonRpcResponse;
    if (this.state !== 'ready' && request.method !== 'initialize') {
      return Promise.resolve(errorResponse(clientId, ErrorCode.UpstreamUnavailable, `upstream ${this.id} is unavailable${this.lastError ? `: ${this.lastError}` : ''}`));
    }
    const transport = this.transport!;
    const id = this.nextId++;
    const params = request.params ? { ...request.params } : undefined;
    const meta = params?._meta as Record<string, unknown> | undefined;
    const entry: Pending = {
      resolve: () => undefined,
      sink: opts.sink,
      timeoutMs: opts.timeoutMs ?? this.config.timeouts.requestMs,
      method: request.method,
    };
    if (params && meta && meta.progressToken !== undefined) {
      entry.clientProgressToken = meta.progressToken as string | number;
      // The upstream sees our id as the token: unique per upstream, so concurrent calls never cross.
      params._meta = { ...meta, progressToken: id };
    }
    const outgoing: JsonRpcRequest = { jsonrpc: '2.0', id, method: request.method, ...(params ? { params } : {}) };

    return new Promise<JsonRpcResponse>((resolve) => {
      entry.resolve = (r) => {
        clearTimeout(entry.timer);
        this.pending.delete(id);
        resolve(restore(r));
      };
      this.pending.set(id, entry);
      this.armTimer(id, entry);
      const onAbort = (): void => {
        if (!this.pending.has(id)) return;
        this.sendQuietly({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: String(opts.signal?.reason ?? 'cancelled by client') } });
        entry.resolve(errorResponse(id, ErrorCode.RequestCancelled, 'request cancelled'));
      };
      if (opts.signal) {
        if (opts.signal.aborted) return onAbort();
        opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      transport.send(outgoing, { headers: opts.headers }).catch((err) => {
        const code = err instanceof UpstreamTransportError ? err.code : 'ERR_UPSTREAM';
        entry.resolve(errorResponse(id, ErrorCode.UpstreamUnavailable, `upstream ${this.id} failed: ${errMessage(err)}`, { upstream: this.id, code }));
      });
    });
  }

  /** Sends a notification upstream (cancellations, initialized, roots changed). */
  notify(method: string, params?: Record<string, unknown>): void {
    this.sendQuietly({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
  }

  private armTimer(id: JsonRpcId, entry: Pending): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (!this.pending.has(id)) return;
      this.sendQuietly({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'timed out at the gateway' } });
      entry.resolve(errorResponse(id, ErrorCode.UpstreamUnavailable, `upstream ${this.id} did not answer ${entry.method} within ${entry.timeoutMs} ms`, { upstream: this.id }));
    }, entry.timeoutMs);
    entry.timer.unref?.();
  }

  private async connect(): Promise<void> {
    this.state = 'starting';
    this.events.stateChanged('starting');
    const transport = this.makeTransport();
    this.transport = transport;
    transport.onmessage = (m, related) => this.receive(m, related);
    transport.onclose = (reason) => {
      if (this.transport !== transport) return;
      this.markDown(reason);
      this.failAll(`upstream ${this.id} closed: ${reason}`);
      if (!this.closed) this.scheduleRestart();
    };
    transport.onerror = (err) => {
      this.lastError = err.message;
    };
    await transport.start();
    // The handshake bypasses the 'ready' gate.
    this.state = 'starting';
    const init = await this.handshake(transport);
    this.protocolVersion = String(init.protocolVersion);
    this.serverCapabilities = (init.capabilities as Record<string, unknown>) ?? {};
    this.serverInfo = (init.serverInfo as Record<string, unknown>) ?? {};
    this.instructions = typeof init.instructions === 'string' ? init.instructions : undefined;
    transport.setProtocolVersion(this.protocolVersion);
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    this.state = 'ready';
    this.lastError = undefined;
    this.backoffMs = 500;
    this.events.stateChanged('ready');
    transport.openEventStream().catch((err) => {
      this.lastError = `event stream: ${errMessage(err)}`;
    });
    this.events.listChanged('all');
  }

  private async handshake(transport: UpstreamTransport): Promise<Record<string, unknown>> {
    const requested = this.config.protocol === 'auto' || this.config.protocol === '2026-07-28' ? LATEST_LEGACY_VERSION : this.config.protocol;
    const id = this.nextId++;
    const response = await new Promise<JsonRpcResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to initialize within ${this.config.timeouts.connectMs} ms`));
      }, this.config.timeouts.connectMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          this.pending.delete(id);
          resolve(r);
        },
        timeoutMs: this.config.timeouts.connectMs,
        method: 'initialize',
      });
      transport
        .send({
          jsonrpc: '2.0',
          id,
          method: 'initialize',
          params: {
            protocolVersion: requested,
            capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } },
            clientInfo: { name: 'toolgate', version: '0.1.0' },
          },
        })
        .catch((err) => {
          clearTimeout(timer);
          this.pending.delete(id);
          reject(err);
        });
    });
    if (isErrorResponse(response)) throw new Error(`initialize failed: ${response.error.message}`);
    return response.result;
  }

  private receive(message: JsonRpcMessage, relatedTo?: JsonRpcId): void {
    if (isResponse(message)) {
      const entry = message.id === null ? undefined : this.pending.get(message.id);
      if (entry) entry.resolve(message);
      else this.unrouted(message, 'response to no pending request');
      return;
    }
    if (isRequest(message)) {
      this.receiveRequest(message, relatedTo);
      return;
    }
    if (isNotification(message)) this.receiveNotification(message, relatedTo);
  }

  private receiveNotification(n: JsonRpcNotification, relatedTo?: JsonRpcId): void {
    const params = n.params ?? {};
    switch (n.method) {
      case 'notifications/progress': {
        const entry = this.pending.get(params.progressToken as JsonRpcId);
        if (!entry || entry.clientProgressToken === undefined) return this.unrouted(n, 'progress for an unknown token');
        this.armTimer(params.progressToken as JsonRpcId, entry);
        entry.sink?.notify({ ...n, params: { ...params, progressToken: entry.clientProgressToken } });
        return;
      }
      case 'notifications/cancelled': {
        this.serverRequests.get(params.requestId as JsonRpcId)?.abort(params.reason ?? 'cancelled by upstream');
        return;
      }
      case 'notifications/tools/list_changed':
        return this.events.listChanged('tools');
      case 'notifications/prompts/list_changed':
        return this.events.listChanged('prompts');
      case 'notifications/resources/list_changed':
        return this.events.listChanged('resources');
      case 'notifications/resources/updated':
        return this.events.resourceUpdated(n);
      default: {
        const target = this.attribute(relatedTo);
        if (target?.sink) target.sink.notify(n);
        else this.unrouted(n, 'notification not tied to a call');
      }
    }
  }

  private receiveRequest(r: JsonRpcRequest, relatedTo?: JsonRpcId): void {
    if (r.method === 'ping') {
      this.sendQuietly({ jsonrpc: '2.0', id: r.id, result: {} });
      return;
    }
    const target = this.attribute(relatedTo);
    if (!target?.sink) {
      this.unrouted(r, 'server→client request not tied to a call');
      this.sendQuietly(errorResponse(r.id, ErrorCode.InternalError, `toolgate cannot tell which client call ${r.method} belongs to; it is only relayed while a call is in flight`));
      return;
    }
    const abort = new AbortController();
    this.serverRequests.set(r.id, abort);
    target.sink
      .request(r, abort.signal)
      .then((answer) => {
        if (abort.signal.aborted) return;
        this.sendQuietly({ ...answer, id: r.id } as JsonRpcResponse);
      })
      .finally(() => this.serverRequests.delete(r.id));
  }

  /**
   * Which pending call a message belongs to. HTTP tells us (the stream it came on); stdio does not,
   * so a message is attributed only when exactly one call is in flight — never guessed between two.
   */
  private attribute(relatedTo?: JsonRpcId): Pending | undefined {
    if (relatedTo !== undefined) return this.pending.get(relatedTo);
    let only: Pending | undefined;
    for (const entry of this.pending.values()) {
      if (!entry.sink) continue;
      if (only) return undefined;
      only = entry;
    }
    return only;
  }

  private unrouted(m: JsonRpcMessage, why: string): void {
    this.unroutedCount++;
    this.events.unrouted(m, why);
  }

  private sendQuietly(m: JsonRpcMessage): void {
    this.transport?.send(m).catch((err) => {
      this.lastError = errMessage(err);
    });
  }

  private markDown(reason: string): void {
    this.state = 'down';
    this.lastError = reason;
    this.events.stateChanged('down');
  }

  private failAll(why: string): void {
    for (const [id, entry] of this.pending) {
      entry.resolve(errorResponse(id, ErrorCode.UpstreamUnavailable, why, { upstream: this.id }));
    }
  }

  private scheduleRestart(): void {
    if (this.closed) return;
    clearTimeout(this.restartTimer);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      const old = this.transport;
      this.transport = undefined;
      void old?.close().catch(() => undefined);
      void this.start();
    }, delay);
    this.restartTimer.unref?.();
  }
}

export class UpstreamCallError extends Error {
  readonly code = 'ERR_UPSTREAM_CALL';
  constructor(
    readonly upstream: string,
    readonly method: string,
    readonly rpcCode: number,
    message: string,
  ) {
    super(`upstream ${upstream} answered ${method} with error ${rpcCode}: ${message}`);
    this.name = 'UpstreamCallError';
  }
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export { isErrorResponse };
