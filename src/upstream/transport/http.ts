import { setMaxListeners } from 'node:events';
import { Agent, type Dispatcher } from 'undici';
import { isRequest, type JsonRpcId, type JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { readAnswer, readRefusal } from './http-answer.js';
import { ACCEPT_POST, ACCEPT_SSE, DEFAULT_MAX_MESSAGE_BYTES, describeCause, isSuccess, mediaType, type ResponseData } from './http-body.js';
import { followEventStream } from './http-event-stream.js';
import { endSession, isSessionRejection, SESSION_EXPIRED } from './http-session.js';
import { newStream, type StreamOwner, type StreamState } from './http-stream.js';
import { type SendOptions, type UpstreamTransport, UpstreamTransportError } from './transport.js';

export interface HttpUpstreamOptions {
  /** The MCP endpoint, e.g. `https://crm.internal/mcp`. */
  url: string;
  /** Sent on every request (static credentials, routing headers). Names are case-insensitive. */
  headers?: Record<string, string>;
  /** TCP/TLS connect timeout; applies to the Agent this transport creates, not to a supplied dispatcher. */
  connectTimeoutMs: number;
  /** A shared pool; when absent the transport creates a keep-alive Agent and closes it in close(). */
  dispatcher?: Dispatcher;
  /**
   * Mutual TLS to an https: upstream: client certificate and key, and the CA its server
   * certificate must chain to (default: the system roots). The server certificate is always
   * verified. Applies to the Agent this transport creates, not to a supplied dispatcher.
   */
  tls?: { cert?: string | Buffer; key?: string | Buffer; ca?: string | Buffer };
  /** Largest message accepted (a JSON body, or the data of one SSE event), in bytes; default 16 MiB. */
  maxMessageBytes?: number;
}

/*
 * Design notes (Streamable HTTP, MCP 2025-11-25, client side):
 * - Every request that send() accepted gets exactly one response delivered for its id, with
 *   relatedTo = that id: the server's, or a synthesized -32010 error (HTTP error, garbage body,
 *   a message over maxMessageBytes, stream closed before answering). Exceptions: the caller
 *   aborted (options.signal); close(), after which the owner fails what is pending; a 202 to a
 *   request (the answer comes on the GET stream).
 * - A request refused because of its session is not accepted: send() rejects, and the loss is
 *   reported, never acted on: the transport does not close itself (http-session.ts).
 * - Answers to a POST: http-answer.ts; SSE streams: http-stream.ts; the GET stream: http-event-stream.ts.
 */

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']);

/**
 * Streamable HTTP client transport to one upstream MCP server.
 *
 * @example
 * const upstream = new HttpUpstreamTransport('crm', { url: 'http://127.0.0.1:3001/mcp', connectTimeoutMs: 2000 });
 * upstream.onmessage = (message, relatedTo) => console.log(relatedTo, message);
 * await upstream.start();
 * await upstream.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
 * await upstream.close();
 */
export class HttpUpstreamTransport implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage, relatedTo?: JsonRpcId) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;

  private readonly upstreamId: string;
  private readonly url: string;
  /** The url split once for undici (origin; path with query), instead of parsing it per request. */
  private readonly origin: string;
  private readonly path: string;
  /** The url without credentials or query, for error messages. */
  private readonly where: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  /** What the stream readers may use of this transport. */
  private readonly streams: StreamOwner;
  /** Every request or stream in flight, so close() can abort them all. */
  private readonly inFlight = new Set<AbortController>();
  /**
   * Aborted by close(): the signal of every request whose caller passed none, so such a request
   * (the common case) costs no AbortController of its own.
   */
  private readonly lifetime = new AbortController();
  private session: string | undefined;
  private protocolVersion: string | undefined;
  private eventStream: AbortController | undefined;
  private closed = false;
  private dispatcherClosed = false;

  constructor(upstreamId: string, options: HttpUpstreamOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new UpstreamTransportError(upstreamId, 'ERR_UPSTREAM_CONFIG', `url must be an absolute URL, got ${JSON.stringify(options.url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UpstreamTransportError(upstreamId, 'ERR_UPSTREAM_CONFIG', `url must be http: or https:, got ${parsed.protocol}`);
    }
    if (!Number.isFinite(options.connectTimeoutMs) || options.connectTimeoutMs <= 0) {
      throw new UpstreamTransportError(upstreamId, 'ERR_UPSTREAM_CONFIG', `connectTimeoutMs must be a positive number, got ${options.connectTimeoutMs}`);
    }
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
      throw new UpstreamTransportError(upstreamId, 'ERR_UPSTREAM_CONFIG', `maxMessageBytes must be a positive integer, got ${options.maxMessageBytes}`);
    }
    this.upstreamId = upstreamId;
    this.url = options.url;
    this.origin = parsed.origin;
    this.path = `${parsed.pathname}${parsed.search}`;
    setMaxListeners(0, this.lifetime.signal);
    this.where = `${parsed.origin}${parsed.pathname}`;
    this.baseHeaders = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) this.baseHeaders[name.toLowerCase()] = value;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ connect: { timeout: options.connectTimeoutMs, ...options.tls, rejectUnauthorized: true } });
    this.streams = {
      upstreamId,
      maxMessageBytes,
      deliver: (message, relatedTo) => this.deliver(message, relatedTo),
      report: (what, cause) => this.report(what, cause),
      get: (stream) => this.get(stream),
      rejectsSession: (status) => this.session !== undefined && isSessionRejection(status),
      loseSession: (status, what) => this.loseSession(status, what),
    };
  }

  /** The session the server assigned (`Mcp-Session-Id`), once it did. */
  get sessionId(): string | undefined {
    return this.session;
  }

  async start(): Promise<void> {
    if (this.closed) throw this.closedError();
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JsonRpcMessage, options: SendOptions = {}): Promise<void> {
    if (this.closed) throw this.closedError();
    const requestId = isRequest(message) ? message.id : undefined;
    const controller = this.track(options.signal, false);
    const headers = this.headersFor(ACCEPT_POST, options.headers);
    headers['content-type'] = 'application/json';
    const carriedSession = headers['mcp-session-id'] !== undefined;
    let res: ResponseData;
    try {
      res = await this.dispatcher.request({
        origin: this.origin,
        path: this.path,
        method: 'POST',
        headers,
        body: JSON.stringify(message),
        signal: controller.signal,
        bodyTimeout: 0,
      });
    } catch (err) {
      const error = this.requestError(err, controller.signal);
      this.untrack(controller);
      throw error;
    }
    if (this.closed) {
      // Closed while the headers were on their way: nothing would read the body or deliver it.
      this.untrack(controller);
      await res.body.dump().catch(() => undefined);
      throw this.closedError();
    }
    this.captureSession(res);
    if (isSuccess(res)) {
      // Read in the background: send() resolves once the server accepted the message.
      // readAnswer settles only once the body is consumed or broke off: nothing left to abort, and
      // an abort() per call would build a DOMException on the hot path.
      void readAnswer(this.streams, res, requestId, controller.signal, options.flow).finally(() => this.untrack(controller, false));
      return;
    }
    try {
      await readRefusal(this.streams, res, requestId, carriedSession);
    } finally {
      this.untrack(controller);
    }
  }

  async openEventStream(): Promise<void> {
    if (this.closed) throw this.closedError();
    if (this.eventStream !== undefined) return;
    const controller = this.track(undefined, true);
    this.eventStream = controller;
    const stream = newStream(undefined, controller.signal);
    let res: ResponseData;
    try {
      res = await this.get(stream);
    } catch (err) {
      const error = this.requestError(err, controller.signal);
      this.endEventStream(controller);
      throw error;
    }
    if (res.statusCode === 405 || !isSuccess(res) || mediaType(res) !== ACCEPT_SSE) {
      await res.body.dump().catch(() => undefined);
      this.endEventStream(controller);
      if (res.statusCode === 405) return;
      // Only 404 here: a 400 to a session's first GET says nothing about the session (http-session.ts).
      if (res.statusCode === 404 && this.session !== undefined) throw this.loseSession(404, 'to the event stream request');
      throw new UpstreamTransportError(
        this.upstreamId,
        'ERR_UPSTREAM_REJECTED',
        `answered HTTP ${res.statusCode} (${mediaType(res) || 'no content type'}) to the event stream request`,
      );
    }
    void followEventStream(this.streams, res.body, stream).finally(() => this.endEventStream(controller));
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.shutdown();
    if (session !== undefined) {
      const headers = this.headersFor(ACCEPT_POST, undefined);
      headers['mcp-session-id'] = session;
      const problem = await endSession(this.url, this.dispatcher, headers);
      if (problem !== undefined) this.report(problem.what, problem.cause);
    }
    if (this.ownsDispatcher && !this.dispatcherClosed) {
      this.dispatcherClosed = true;
      await this.dispatcher.close();
    }
  }

  private get(stream: StreamState): Promise<ResponseData> {
    const headers = this.headersFor(ACCEPT_SSE, undefined);
    if (stream.lastEventId !== undefined) headers['last-event-id'] = stream.lastEventId;
    return this.dispatcher.request({ origin: this.origin, path: this.path, method: 'GET', headers, signal: stream.signal, bodyTimeout: 0 });
  }

  private headersFor(accept: string, extra: Record<string, string> | undefined): Record<string, string> {
    const headers: Record<string, string> = { ...this.baseHeaders };
    if (extra !== undefined) for (const name in extra) headers[name.toLowerCase()] = extra[name]!;
    headers.accept = accept;
    if (this.session !== undefined) headers['mcp-session-id'] = this.session;
    if (this.protocolVersion !== undefined) headers['mcp-protocol-version'] = this.protocolVersion;
    return headers;
  }

  private captureSession(res: ResponseData): void {
    const value = res.headers['mcp-session-id'];
    const session = Array.isArray(value) ? value[0] : value;
    if (session !== undefined && session !== '' && !this.closed) this.session = session;
  }

  private deliver(message: JsonRpcMessage, relatedTo: JsonRpcId | undefined): void {
    if (this.closed) return;
    try {
      this.onmessage?.(message, relatedTo);
    } catch (err) {
      this.onerror?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private report(what: string, cause?: unknown): void {
    const message = cause === undefined ? what : `${what}: ${describeCause(cause)}`;
    this.onerror?.(new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_PROTOCOL', message, { cause }));
  }

  /**
   * The server refused the session (http-session.ts): reported through onerror, before a send()
   * rejects with the same error, so the owner starts one new session for all refused requests.
   */
  private loseSession(status: number, what: string): UpstreamTransportError {
    const error = new UpstreamTransportError(this.upstreamId, SESSION_EXPIRED, `answered HTTP ${status} ${what}: the session is no longer valid`);
    this.onerror?.(error);
    return error;
  }

  private requestError(err: unknown, signal: AbortSignal): UpstreamTransportError {
    if (this.closed) return this.closedError(err);
    if (signal.aborted) return new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_ABORTED', 'the request was aborted', { cause: err });
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
      return new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_TIMEOUT', `timed out at ${this.where} (${describeCause(err)})`, { cause: err });
    }
    return new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_UNREACHABLE', `cannot be reached at ${this.where} (${describeCause(err)})`, { cause: err });
  }

  private closedError(cause?: unknown): UpstreamTransportError {
    return new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_CLOSED', 'the transport is closed', { cause });
  }

  /**
   * What aborts one request or stream: close(), and the caller's signal when there is one. Without
   * one (and unless `own`), the transport's lifetime signal serves and nothing is tracked.
   */
  private track(signal: AbortSignal | undefined, own: boolean): AbortController {
    if (signal === undefined && !own) return this.lifetime;
    const controller = new AbortController();
    if (signal !== undefined) {
      if (signal.aborted) controller.abort(signal.reason);
      else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true, signal: controller.signal });
    }
    this.inFlight.add(controller);
    return controller;
  }

  /** Done with a request: drop it and detach from the caller's signal (the lifetime signal stays as it is). */
  private untrack(controller: AbortController, abort = true): void {
    if (controller === this.lifetime) return;
    if (this.inFlight.delete(controller) && abort && !controller.signal.aborted) controller.abort();
  }

  private endEventStream(controller: AbortController): void {
    this.untrack(controller);
    if (this.eventStream === controller) this.eventStream = undefined;
  }

  private shutdown(): void {
    this.closed = true;
    this.lifetime.abort();
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
    this.eventStream = undefined;
  }
}
