import type { UpstreamConfig } from '../config/types.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import { UpstreamTransportError } from '../upstream/transport.js';
// The code is the transport contract's; only the HTTP transport has sessions to lose.
import { SESSION_EXPIRED } from '../upstream/http-session.js';
import { LATEST_LEGACY_VERSION } from './eras.js';
import { classifyResult, unmarkResult, withRequestEnvelope } from './modern.js';
import { eraHeaders, GATEWAY_CLIENT_INFO, handshake, MODERN_CLIENT_CAPABILITIES, type HandshakeRequest } from './upstream-handshake.js';
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
  /** The transport (session) it was last sent on; undefined while it waits to be sent again. */
  transport?: UpstreamTransport;
  /** That transport's send() resolved: the upstream has it, and may be running it. */
  accepted?: boolean;
  sink?: CallSink;
  /** The client's own progress token, restored on every progress notification. */
  clientProgressToken?: string | number;
  timer?: NodeJS.Timeout;
  timeoutMs: number;
  method: string;
  /** 2026-07-28: closing the request's stream is the cancellation. */
  stream?: AbortController;
}

/*
 * Session recovery. An upstream that restarted (or expired our session) refuses the old session
 * id; the transport reports SESSION_EXPIRED (src/upstream/http-session.ts has the rule). Then,
 * without the restart backoff, a new transport performs the handshake while new calls wait for
 * it, and a request whose send() was refused that way — the server rejected it before running
 * it — is sent once more on the new session. Requests the old session had accepted may have
 * run, so they are not repeated: the old transport stays open ("retired") until each has its
 * answer, then closes.
 *
 * A refusal is only a guess at session loss (a 400 can mean other things), so a session that
 * recovery produced is on probation: until a request is accepted on it, refusals are passed on
 * as errors rather than taken for another loss. Probation also ends by time (1 s, doubling per
 * recovery that nothing proved, up to 30 s), so an upstream that restarts twice in a row is
 * still recovered. An upstream that refuses every request therefore costs one handshake per
 * probation window at most, and only while calls keep coming.
 */

const PROBATION_MS = 1000;
const MAX_PROBATION_MS = 30_000;

/** MCP client side of one upstream: handshake, id and progress-token mapping, routing of what comes back. */
export class UpstreamClient {
  readonly id: string;
  state: UpstreamState = 'starting';
  lastError?: string;
  protocolVersion = LATEST_LEGACY_VERSION;
  /** Which protocol machinery this upstream speaks, settled by the handshake. */
  era: 'legacy' | 'modern' = 'legacy';
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
  /** The re-handshake after a session loss, while it runs; resolves with whether it succeeded. */
  private recovery: Promise<boolean> | undefined;
  /** The current session came from a recovery, and neither an accepted request nor time has cleared it yet. */
  private probation = false;
  private probationTimer?: NodeJS.Timeout;
  private probationMs = PROBATION_MS;
  /** Transports of lost sessions, kept until the requests they accepted are answered. */
  private readonly retired = new Set<UpstreamTransport>();

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
    clearTimeout(this.probationTimer);
    const transports = [...this.retired, ...(this.transport ? [this.transport] : [])];
    this.retired.clear();
    this.failAll(`upstream ${this.id} is shutting down`);
    await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
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
    if (this.recovery !== undefined && request.method !== 'initialize') {
      return this.recovery.then(() => this.forward(request, opts));
    }
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
    let outgoing: JsonRpcRequest = { jsonrpc: '2.0', id, method: request.method, ...(params ? { params } : {}) };
    let headers = opts.headers;
    if (this.era === 'modern') {
      // Stateless: every request carries what initialize used to settle. The log level asks for
      // everything; each caller filters to its own level.
      outgoing = withRequestEnvelope(outgoing, { protocolVersion: this.protocolVersion, clientCapabilities: MODERN_CLIENT_CAPABILITIES, clientInfo: GATEWAY_CLIENT_INFO, logLevel: 'debug' });
      headers = { ...eraHeaders(outgoing), ...opts.headers };
      entry.stream = new AbortController();
    }

    return new Promise<JsonRpcResponse>((resolve) => {
      entry.resolve = (r) => {
        clearTimeout(entry.timer);
        this.pending.delete(id);
        this.closeIfIdle(entry.transport);
        resolve(restore(r));
      };
      this.pending.set(id, entry);
      this.armTimer(id, entry);
      const onAbort = (): void => {
        if (!this.pending.has(id)) return;
        this.cancelUpstream(id, entry, String(opts.signal?.reason ?? 'cancelled by client'));
        entry.resolve(errorResponse(id, ErrorCode.RequestCancelled, 'request cancelled'));
      };
      if (opts.signal) {
        if (opts.signal.aborted) return onAbort();
        opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      const failed = (err: unknown): void => {
        const code = err instanceof UpstreamTransportError ? err.code : 'ERR_UPSTREAM';
        entry.resolve(errorResponse(id, ErrorCode.UpstreamUnavailable, `upstream ${this.id} failed: ${errMessage(err)}`, { upstream: this.id, code }));
      };
      const dispatch = (via: UpstreamTransport, isRetry: boolean): void => {
        entry.transport = via;
        entry.accepted = false;
        via.send(outgoing, { headers, ...(entry.stream ? { signal: entry.stream.signal } : {}) }).then(
          () => {
            entry.accepted = true;
            if (via === this.transport) this.endProbation(true);
          },
          (err: unknown) => {
            if (this.pending.get(id) !== entry) return;
            if (isRetry || !isSessionLoss(err)) return failed(err);
            // Refused before it ran: send it again once, on the session that replaces this one.
            entry.transport = undefined;
            this.closeIfIdle(via);
            void this.recoverSession(via).then((recovered) => {
              if (this.pending.get(id) !== entry) return;
              if (recovered && this.transport !== undefined) dispatch(this.transport, true);
              else failed(err);
            });
          },
        );
      };
      dispatch(transport, false);
    });
  }

  /** Sends a notification upstream (cancellations, initialized, roots changed). */
  notify(method: string, params?: Record<string, unknown>): void {
    this.sendQuietly({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
  }

  /** Tells the upstream to stop a request: a notification in the 2025 eras, closing its stream in 2026-07-28. */
  private cancelUpstream(id: JsonRpcId, entry: Pending, reason: string): void {
    if (entry.stream) entry.stream.abort(reason);
    else this.sendQuietly({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }, entry.transport);
  }

  private armTimer(id: JsonRpcId, entry: Pending): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (!this.pending.has(id)) return;
      this.cancelUpstream(id, entry, 'timed out at the gateway');
      entry.resolve(errorResponse(id, ErrorCode.UpstreamUnavailable, `upstream ${this.id} did not answer ${entry.method} within ${entry.timeoutMs} ms`, { upstream: this.id }));
    }, entry.timeoutMs);
    entry.timer.unref?.();
  }

  private async connect(afterSessionLoss = false): Promise<void> {
    // An upstream that failed stays 'down' while it is retried; 'starting' is the first attempt
    // (and a session recovery, during which new calls wait).
    if (this.state !== 'down') {
      this.state = 'starting';
      this.events.stateChanged('starting');
    }
    const transport = this.makeTransport();
    this.transport = transport;
    if (afterSessionLoss) this.startProbation();
    else this.endProbation(true);
    transport.onmessage = (m, related) => this.receive(m, related, transport);
    transport.onclose = (reason) => {
      if (this.retired.delete(transport)) {
        // Requests it had not yet handed over are settled by their send(); the others end here.
        this.failAll(`upstream ${this.id} closed: ${reason}`, transport, true);
        void transport.close().catch(() => undefined);
        return;
      }
      if (this.transport !== transport) return;
      this.markDown(reason);
      this.failAll(`upstream ${this.id} closed: ${reason}`, transport);
      if (!this.closed) this.scheduleRestart();
    };
    transport.onerror = (err) => {
      if (this.transport !== transport) return;
      this.lastError = err.message;
      if (isSessionLoss(err)) void this.recoverSession(transport);
    };
    await transport.start();
    const settled = await handshake(this.config, this.handshakeRequest(transport));
    this.era = settled.era;
    this.protocolVersion = settled.protocolVersion;
    this.serverCapabilities = settled.capabilities;
    this.serverInfo = settled.serverInfo;
    this.instructions = settled.instructions;
    transport.setProtocolVersion(this.protocolVersion);
    if (this.era === 'legacy') await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    this.state = 'ready';
    this.lastError = undefined;
    this.backoffMs = 500;
    this.events.stateChanged('ready');
    // 2026-07-28 has no GET stream (subscriptions/listen replaces it; not used yet).
    if (this.era === 'legacy') {
      transport.openEventStream().catch((err) => {
        if (this.transport === transport) this.lastError = `event stream: ${errMessage(err)}`;
      });
    }
    this.events.listChanged('all');
  }

  /** Sends one handshake request outside the ready gate, bounded by connect_ms. */
  private handshakeRequest(transport: UpstreamTransport): HandshakeRequest {
    return (request, headers) =>
      new Promise<JsonRpcResponse>((resolve, reject) => {
        const id = this.nextId++;
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`no answer to ${request.method} within ${this.config.timeouts.connectMs} ms`));
        }, this.config.timeouts.connectMs);
        this.pending.set(id, {
          resolve: (r) => {
            clearTimeout(timer);
            this.pending.delete(id);
            resolve(r);
          },
          transport,
          timeoutMs: this.config.timeouts.connectMs,
          method: request.method,
        });
        transport.send({ ...request, id }, headers ? { headers } : undefined).catch((err) => {
          clearTimeout(timer);
          this.pending.delete(id);
          reject(err);
        });
      });
  }

  /** `from`: the transport it came on, where any answer goes back. */
  private receive(message: JsonRpcMessage, relatedTo: JsonRpcId | undefined, from: UpstreamTransport): void {
    if (isResponse(message)) {
      const entry = message.id === null ? undefined : this.pending.get(message.id);
      if (entry) entry.resolve(this.era === 'modern' ? fromModern(message, this.id) : message);
      else this.unrouted(message, 'response to no pending request');
      return;
    }
    if (isRequest(message)) {
      this.receiveRequest(message, relatedTo, from);
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

  private receiveRequest(r: JsonRpcRequest, relatedTo: JsonRpcId | undefined, from: UpstreamTransport): void {
    if (r.method === 'ping') {
      this.sendQuietly({ jsonrpc: '2.0', id: r.id, result: {} }, from);
      return;
    }
    const target = this.attribute(relatedTo);
    if (!target?.sink) {
      this.unrouted(r, 'server→client request not tied to a call');
      this.sendQuietly(errorResponse(r.id, ErrorCode.InternalError, `toolgate cannot tell which client call ${r.method} belongs to; it is only relayed while a call is in flight`), from);
      return;
    }
    const abort = new AbortController();
    this.serverRequests.set(r.id, abort);
    target.sink
      .request(r, abort.signal)
      .then((answer) => {
        if (abort.signal.aborted) return;
        this.sendQuietly({ ...answer, id: r.id } as JsonRpcResponse, from);
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

  /** Sends on `via` (default: the current session); a failure is only remembered, and only for the current one. */
  private sendQuietly(m: JsonRpcMessage, via: UpstreamTransport | undefined = this.transport): void {
    via?.send(m).catch((err) => {
      if (via === this.transport) this.lastError = errMessage(err);
    });
  }

  /**
   * Starts a new session after `lost` was refused (see the note above the class). Concurrent
   * losses share one recovery. Resolves false when none was attempted (probation, not ready,
   * closing) or the handshake failed — then the usual restart with backoff takes over.
   */
  private recoverSession(lost: UpstreamTransport): Promise<boolean> {
    if (this.recovery !== undefined) return this.recovery;
    if (this.transport !== lost) return Promise.resolve(this.state === 'ready');
    if (this.closed || this.state !== 'ready' || this.probation) return Promise.resolve(false);
    this.restarts++;
    this.transport = undefined;
    this.retired.add(lost);
    this.closeIfIdle(lost);
    this.recovery = this.connect(true)
      .then(
        () => true,
        (err: unknown) => {
          this.markDown(errMessage(err));
          this.scheduleRestart();
          return false;
        },
      )
      .finally(() => {
        this.recovery = undefined;
      });
    return this.recovery;
  }

  private startProbation(): void {
    clearTimeout(this.probationTimer);
    this.probation = true;
    this.probationTimer = setTimeout(() => this.endProbation(false), this.probationMs);
    this.probationTimer.unref?.();
    this.probationMs = Math.min(this.probationMs * 2, MAX_PROBATION_MS);
  }

  /** `proven`: a request was accepted (the session works), so the next window starts short again. */
  private endProbation(proven: boolean): void {
    if (!this.probation && (!proven || this.probationMs === PROBATION_MS)) return; // the common case: nothing to end
    clearTimeout(this.probationTimer);
    this.probation = false;
    if (proven) this.probationMs = PROBATION_MS;
  }

  /** Closes a retired transport once no pending request was sent on it. */
  private closeIfIdle(transport: UpstreamTransport | undefined): void {
    if (transport === undefined || !this.retired.has(transport)) return;
    for (const entry of this.pending.values()) if (entry.transport === transport) return;
    this.retired.delete(transport);
    void transport.close().catch(() => undefined);
  }

  private markDown(reason: string): void {
    this.state = 'down';
    this.lastError = reason;
    this.events.stateChanged('down');
  }

  /** Fails what is pending: everything, or what was sent on `transport` (with `acceptedOnly`, what it had accepted). */
  private failAll(why: string, transport?: UpstreamTransport, acceptedOnly = false): void {
    for (const [id, entry] of this.pending) {
      if (transport !== undefined && (entry.transport !== transport || (acceptedOnly && !entry.accepted))) continue;
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

/**
 * A 2026-07-28 answer in the shape the rest of the gateway uses (the 2025 one). An
 * input_required result asks the gateway for client input it does not relay to this era yet:
 * the call ends with an error that says so rather than a result the client cannot use.
 */
function fromModern(response: JsonRpcResponse, upstream: string): JsonRpcResponse {
  if (!('result' in response)) return response;
  const kind = classifyResult(response.result);
  if (kind.kind === 'input_required') {
    return errorResponse(response.id, ErrorCode.UpstreamUnavailable, `upstream ${upstream} asked for client input (input_required), which toolgate does not relay from 2026-07-28 upstreams yet`, { upstream });
  }
  const plain = unmarkResult(response.result);
  if (!plain.ok) return errorResponse(response.id, ErrorCode.UpstreamUnavailable, `upstream ${upstream} sent an invalid result: ${plain.reason}`, { upstream });
  return { ...response, result: plain.result };
}

function isSessionLoss(err: unknown): boolean {
  return err instanceof UpstreamTransportError && err.code === SESSION_EXPIRED;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export { isErrorResponse };
