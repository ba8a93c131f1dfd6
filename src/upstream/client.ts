/*
 * The MCP client side of one upstream, and the API the rest of the gateway uses: its lifecycle
 * (connect and handshake, restart with backoff, session recovery) and sending calls on the
 * current session (forward, call, notify). The parts: one call's request/answer mapping in
 * call.ts, the calls in flight (ids, timeouts, cancellation) in in-flight.ts,
 * routing what the upstream sends in inbox.ts, the era handshake in
 * handshake.ts, the probation after a recovery in probation.ts.
 */
import type { UpstreamConfig } from '../config/types.js';
import { LATEST_LEGACY_VERSION } from '../protocol/eras.js';
import { ErrorCode, errorResponse, isErrorResponse, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { type ForwardOptions, outgoingCall, UpstreamCallError } from './call.js';
import { handshake } from './handshake.js';
import { CallsInFlight } from './in-flight.js';
import { UpstreamInbox } from './inbox.js';
import { Probation } from './probation.js';
// The code is the transport contract's; only the HTTP transport has sessions to lose.
import { SESSION_EXPIRED } from './transport/http-session.js';
import type { UpstreamTransport } from './transport/transport.js';
import { UpstreamTransportError } from './transport/transport.js';

export type { CallSink, ForwardOptions } from './call.js';
export { isErrorResponse, UpstreamCallError };

export interface UpstreamEvents {
  /** The upstream said its tools/prompts/resources changed, or it (re)connected. */
  listChanged(kind: 'tools' | 'prompts' | 'resources' | 'all'): void;
  resourceUpdated(notification: JsonRpcNotification): void;
  /** A message the gateway could not attribute to any call (dropped, counted). */
  unrouted(message: JsonRpcMessage, why: string): void;
  stateChanged(state: UpstreamState): void;
}

export type UpstreamState = 'starting' | 'ready' | 'down';

/*
 * Session recovery. An upstream that restarted (or expired our session) refuses the old session
 * id; the transport reports SESSION_EXPIRED (src/upstream/transport/http-session.ts has the rule). Then,
 * without the restart backoff, a new transport performs the handshake while new calls wait for
 * it, and a request whose send() was refused that way — the server rejected it before running
 * it — is sent once more on the new session. Requests the old session had accepted may have
 * run, so they are not repeated: the old transport stays open ("retired") until each has its
 * answer, then closes. The new session is on probation (probation.ts), which bounds
 * what a wrong guess at session loss costs.
 */

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
  private readonly calls: CallsInFlight;
  private readonly inbox: UpstreamInbox;
  private closed = false;
  private restartTimer?: NodeJS.Timeout;
  private backoffMs = 500;
  /** The re-handshake after a session loss, while it runs; resolves with whether it succeeded. */
  private recovery: Promise<boolean> | undefined;
  private readonly probation = new Probation();
  /** Transports of lost sessions, kept until the requests they accepted are answered. */
  private readonly retired = new Set<UpstreamTransport>();

  constructor(
    readonly config: UpstreamConfig,
    private readonly makeTransport: () => UpstreamTransport,
    private readonly events: UpstreamEvents,
  ) {
    this.id = config.id;
    this.calls = new CallsInFlight(this.id, (message, via) => this.sendQuietly(message, via));
    this.inbox = new UpstreamInbox({
      upstream: this.id,
      era: () => this.era,
      calls: this.calls,
      reply: (message, via) => this.sendQuietly(message, via),
      listChanged: (kind) => this.events.listChanged(kind),
      resourceUpdated: (notification) => this.events.resourceUpdated(notification),
      unrouted: (message, why) => {
        this.unroutedCount++;
        this.events.unrouted(message, why);
      },
    });
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
    this.probation.dispose();
    const transports = [...this.retired, ...(this.transport ? [this.transport] : [])];
    this.retired.clear();
    this.calls.failAll(`upstream ${this.id} is shutting down`);
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
    const id = this.calls.newId();
    const context = { era: this.era, protocolVersion: this.protocolVersion, requestMs: this.config.timeouts.requestMs };
    const { call: entry, request: outgoing, headers } = outgoingCall(request, id, opts, context);

    return new Promise<JsonRpcResponse>((resolve) => {
      entry.resolve = (r) => {
        this.calls.remove(id, entry);
        this.closeIfIdle(entry.transport);
        resolve(restore(r));
      };
      this.calls.add(id, entry);
      const onAbort = (): void => {
        if (!this.calls.byId.has(id)) return;
        this.calls.cancel(id, entry, String(opts.signal?.reason ?? 'cancelled by client'));
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
        via.send(outgoing, { headers, flow: opts.sink?.flow, ...(entry.stream ? { signal: entry.stream.signal } : {}) }).then(
          () => {
            entry.accepted = true;
            if (via === this.transport) this.probation.end(true);
          },
          (err: unknown) => {
            if (this.calls.byId.get(id) !== entry) return;
            if (isRetry || !isSessionLoss(err)) return failed(err);
            // Refused before it ran: send it again once, on the session that replaces this one.
            entry.transport = undefined;
            this.closeIfIdle(via);
            void this.recoverSession(via).then((recovered) => {
              if (this.calls.byId.get(id) !== entry) return;
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

  private async connect(afterSessionLoss = false): Promise<void> {
    // An upstream that failed stays 'down' while it is retried; 'starting' is the first attempt
    // (and a session recovery, during which new calls wait).
    if (this.state !== 'down') {
      this.state = 'starting';
      this.events.stateChanged('starting');
    }
    const transport = this.makeTransport();
    this.transport = transport;
    if (afterSessionLoss) this.probation.start();
    else this.probation.end(true);
    transport.onmessage = (m, related) => this.inbox.receive(m, related, transport);
    transport.onclose = (reason) => {
      if (this.retired.delete(transport)) {
        // Requests it had not yet handed over are settled by their send(); the others end here.
        this.calls.failAll(`upstream ${this.id} closed: ${reason}`, transport, true);
        void transport.close().catch(() => undefined);
        return;
      }
      if (this.transport !== transport) return;
      this.markDown(reason);
      this.calls.failAll(`upstream ${this.id} closed: ${reason}`, transport);
      if (!this.closed) this.scheduleRestart();
    };
    transport.onerror = (err) => {
      if (this.transport !== transport) return;
      this.lastError = err.message;
      if (isSessionLoss(err)) void this.recoverSession(transport);
    };
    await transport.start();
    const settled = await handshake(this.config, this.calls.handshakeRequest(transport, this.config.timeouts.connectMs));
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
    if (this.closed || this.state !== 'ready' || this.probation.active) return Promise.resolve(false);
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

  /** Closes a retired transport once no pending request was sent on it. */
  private closeIfIdle(transport: UpstreamTransport | undefined): void {
    if (transport === undefined || !this.retired.has(transport)) return;
    if (this.calls.sentOn(transport)) return;
    this.retired.delete(transport);
    void transport.close().catch(() => undefined);
  }

  private markDown(reason: string): void {
    this.state = 'down';
    this.lastError = reason;
    this.events.stateChanged('down');
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

function isSessionLoss(err: unknown): boolean {
  return err instanceof UpstreamTransportError && err.code === SESSION_EXPIRED;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
