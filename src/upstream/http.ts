import { Agent, request, type Dispatcher } from 'undici';
import {
  classifyMessage,
  ErrorCode,
  errorResponse,
  isErrorResponse,
  isRequest,
  isResponse,
  type JsonRpcId,
  type JsonRpcMessage,
} from '../mcp/jsonrpc.js';
import { SseParser, type SseEvent } from './sse.js';
import { UpstreamTransportError, type SendOptions, type UpstreamTransport } from './transport.js';

export interface HttpUpstreamOptions {
  /** The MCP endpoint, e.g. `https://crm.internal/mcp`. */
  url: string;
  /** Sent on every request (static credentials, routing headers). Names are case-insensitive. */
  headers?: Record<string, string>;
  /** TCP/TLS connect timeout; applies to the Agent this transport creates, not to a supplied dispatcher. */
  connectTimeoutMs: number;
  /** A shared pool; when absent the transport creates a keep-alive Agent and closes it in close(). */
  dispatcher?: Dispatcher;
}

/*
 * Design notes (Streamable HTTP, MCP 2025-11-25, client side):
 * - Every request that send() accepted gets exactly one response delivered for its id, with
 *   relatedTo = that id: the server's, or a synthesized -32010 error (HTTP error, garbage body,
 *   stream closed before answering). Exceptions: the caller aborted (options.signal), or the
 *   transport closed (close(), or onclose after session expiry) — the owner fails what is pending;
 *   and a 202 to a request, which says the answer will come on the standalone GET stream.
 * - An SSE stream that ends without the response is resumed with GET + Last-Event-ID when the
 *   server gave event ids, after its `retry:` delay; attempts reset whenever a new event id
 *   arrives, so a server that polls (closes streams on purpose) keeps working.
 * - Bodies are parsed once (JSON.parse then classifyMessage); nothing is buffered to the end
 *   of an SSE stream: each event is delivered as it completes.
 */

const ACCEPT_POST = 'application/json, text/event-stream';
const ACCEPT_SSE = 'text/event-stream';
const RESUME_ATTEMPTS = 2;
const DEFAULT_RETRY_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const ERROR_BODY_LIMIT = 64 * 1024;
const DELETE_TIMEOUT_MS = 5000;
const ANSWERED_LINGER_MS = 2000;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']);

type ResponseData = Dispatcher.ResponseData;
type Body = ResponseData['body'];

/** One SSE stream being read: whom its messages belong to and where to resume it. */
interface StreamState {
  /** The request whose stream this is; undefined for the standalone GET stream. */
  readonly relatedTo: JsonRpcId | undefined;
  readonly signal: AbortSignal;
  lastEventId: string | undefined;
  retryMs: number;
  answered: boolean;
}

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
  /** The url without credentials or query, for error messages. */
  private readonly where: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  /** Every request or stream in flight, so close() can abort them all. */
  private readonly inFlight = new Set<AbortController>();
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
    this.upstreamId = upstreamId;
    this.url = options.url;
    this.where = `${parsed.origin}${parsed.pathname}`;
    this.baseHeaders = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) this.baseHeaders[name.toLowerCase()] = value;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ connect: { timeout: options.connectTimeoutMs } });
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
    const controller = this.track(options.signal);
    let res: ResponseData;
    try {
      const headers = this.headersFor(ACCEPT_POST, options.headers);
      headers['content-type'] = 'application/json';
      res = await request(this.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
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
    this.captureSession(res);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      this.accept(res, requestId, controller);
      return;
    }
    try {
      await this.refuse(res, requestId);
    } finally {
      this.untrack(controller);
    }
  }

  async openEventStream(): Promise<void> {
    if (this.closed) throw this.closedError();
    if (this.eventStream !== undefined) return;
    const controller = this.track(undefined);
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
      if (res.statusCode === 404 && this.session !== undefined) this.expire();
      throw new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_REJECTED', `answered HTTP ${res.statusCode} (${mediaType(res) || 'no content type'}) to the event stream request`);
    }
    void this.followEventStream(res.body, stream, controller);
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.shutdown();
    if (session !== undefined) {
      try {
        const headers = this.headersFor(ACCEPT_POST, undefined);
        headers['mcp-session-id'] = session;
        const res = await request(this.url, {
          method: 'DELETE',
          dispatcher: this.dispatcher,
          headers,
          signal: AbortSignal.timeout(DELETE_TIMEOUT_MS),
        });
        await res.body.dump();
        if (!isSuccess(res) && res.statusCode !== 405 && res.statusCode !== 404) {
          this.report(`answered HTTP ${res.statusCode} to the session DELETE`);
        }
      } catch (err) {
        this.report('could not end the session', err);
      }
    }
    if (this.ownsDispatcher && !this.dispatcherClosed) {
      this.dispatcherClosed = true;
      await this.dispatcher.close();
    }
  }

  /** A 2xx to a POST: read the body in the background, send() resolves now. */
  private accept(res: ResponseData, requestId: JsonRpcId | undefined, controller: AbortController): void {
    const type = mediaType(res);
    let reading: Promise<void>;
    if (res.statusCode !== 202 && type === ACCEPT_SSE) {
      reading = requestId === undefined
        ? this.consume(res.body, newStream(undefined, controller.signal))
        : this.followRequestStream(res.body, newStream(requestId, controller.signal));
    } else if (res.statusCode !== 202 && type === 'application/json') {
      reading = this.readJson(res.body, requestId);
    } else {
      reading = res.body.dump();
      if (requestId !== undefined && res.statusCode !== 202) {
        this.deliverInvalid(requestId, `content type ${JSON.stringify(type || 'none')} with HTTP ${res.statusCode}`);
      }
    }
    reading
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        this.report('response body failed', err);
        if (requestId !== undefined) this.deliverInvalid(requestId, `the body broke off (${describe(err)})`);
      })
      .finally(() => this.untrack(controller));
  }

  /** A non-2xx to a POST: the request gets an error response; anything else is rejected. */
  private async refuse(res: ResponseData, requestId: JsonRpcId | undefined): Promise<void> {
    const status = res.statusCode;
    const text = await readCapped(res.body, ERROR_BODY_LIMIT).catch(() => '');
    const expired = status === 404 && this.session !== undefined;
    if (requestId === undefined) {
      if (expired) this.expire();
      throw new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_REJECTED', `answered HTTP ${status}${expired ? ' (session expired)' : ''}`);
    }
    const fromBody = parseMessage(text);
    const answer = !('invalid' in fromBody) && isErrorResponse(fromBody)
      ? { ...fromBody, id: requestId }
      : errorResponse(requestId, ErrorCode.UpstreamUnavailable, `upstream ${this.upstreamId} answered HTTP ${status}${expired ? ' (session expired)' : ''}`);
    this.deliver(answer, requestId);
    if (expired) this.expire();
  }

  private async readJson(body: Body, requestId: JsonRpcId | undefined): Promise<void> {
    const message = parseMessage(await body.text());
    if ('invalid' in message) {
      this.report(`sent an invalid response: ${message.invalid}`);
      if (requestId !== undefined) this.deliverInvalid(requestId, message.invalid);
      return;
    }
    this.deliver(message, requestId);
    if (requestId !== undefined && !(isResponse(message) && message.id === requestId)) {
      this.deliverInvalid(requestId, 'the JSON body was not the response to the request');
    }
  }

  /** Reads a request's SSE stream, resuming it until the response arrives or resuming fails. */
  private async followRequestStream(first: Body, stream: StreamState & { relatedTo: JsonRpcId }): Promise<void> {
    let body: Body | undefined = first;
    let failures = 0;
    for (;;) {
      if (body !== undefined) {
        const before = stream.lastEventId;
        try {
          await this.consume(body, stream);
        } catch (err) {
          if (stream.signal.aborted) return;
          this.report('request stream dropped', err);
        }
        if (stream.answered) return;
        if (stream.lastEventId !== before) failures = 0;
      }
      if (stream.signal.aborted) return;
      if (stream.lastEventId === undefined || failures >= RESUME_ATTEMPTS) break;
      failures++;
      if (!(await pause(stream.retryMs, stream.signal))) return;
      body = undefined;
      try {
        const res = await this.get(stream);
        if (isSuccess(res) && mediaType(res) === ACCEPT_SSE) {
          body = res.body;
        } else {
          await res.body.dump().catch(() => undefined);
          if (res.statusCode === 404 && this.session !== undefined) {
            this.expire();
            return;
          }
          if (res.statusCode >= 400) break;
        }
      } catch (err) {
        if (stream.signal.aborted) return;
        this.report('could not resume a request stream', err);
      }
    }
    this.deliver(
      errorResponse(stream.relatedTo, ErrorCode.UpstreamUnavailable, `upstream ${this.upstreamId} closed the stream before answering`),
      stream.relatedTo,
    );
  }

  /** Reads the standalone GET stream and reconnects on drop, with capped backoff, until closed. */
  private async followEventStream(first: Body, stream: StreamState, controller: AbortController): Promise<void> {
    let body: Body | undefined = first;
    let failures = 0;
    while (!stream.signal.aborted) {
      if (body !== undefined) {
        try {
          await this.consume(body, stream);
        } catch (err) {
          if (stream.signal.aborted) break;
          this.report('event stream dropped', err);
        }
      }
      const delay = Math.min(stream.retryMs * 2 ** failures, MAX_BACKOFF_MS);
      if (!(await pause(delay, stream.signal))) break;
      body = undefined;
      try {
        const res = await this.get(stream);
        if (isSuccess(res) && mediaType(res) === ACCEPT_SSE) {
          body = res.body;
          failures = 0;
          continue;
        }
        await res.body.dump().catch(() => undefined);
        if (res.statusCode === 405) break;
        if (res.statusCode === 404 && this.session !== undefined) {
          this.expire();
          break;
        }
        this.report(`answered HTTP ${res.statusCode} when reconnecting the event stream`);
      } catch (err) {
        if (stream.signal.aborted) break;
        this.report('could not reconnect the event stream', err);
      }
      failures++;
    }
    this.endEventStream(controller);
  }

  /**
   * Delivers each SSE event of one body as it completes. Once the response is in, the server
   * should end the stream; reading on until it does keeps the connection reusable, and a stream
   * left open after the answer is cut after a short linger instead of being held forever.
   */
  private async consume(body: Body, stream: StreamState): Promise<void> {
    const parser = new SseParser((event) => this.onEvent(event, stream));
    // undici's body ignores setEncoding; a streaming decoder keeps split UTF-8 sequences whole.
    const decoder = new TextDecoder();
    let linger: NodeJS.Timeout | undefined;
    try {
      for await (const chunk of body) {
        parser.push(decoder.decode(chunk as Buffer, { stream: true }));
        if (stream.answered && linger === undefined) linger = setTimeout(() => body.destroy(), ANSWERED_LINGER_MS);
      }
      parser.push(decoder.decode());
      parser.end();
    } catch (err) {
      if (!stream.answered) throw err;
    } finally {
      clearTimeout(linger);
    }
  }

  private onEvent(event: SseEvent, stream: StreamState): void {
    if (event.id !== undefined) stream.lastEventId = event.id === '' ? undefined : event.id;
    if (event.retry !== undefined) stream.retryMs = event.retry;
    if (event.data === '' || event.event !== 'message' || stream.signal.aborted) return;
    const message = parseMessage(event.data);
    if ('invalid' in message) {
      this.report(`sent an invalid message on an event stream: ${message.invalid}`);
      return;
    }
    if (stream.relatedTo !== undefined && isResponse(message) && message.id === stream.relatedTo) stream.answered = true;
    this.deliver(message, stream.relatedTo);
  }

  private get(stream: StreamState): Promise<ResponseData> {
    const headers = this.headersFor(ACCEPT_SSE, undefined);
    if (stream.lastEventId !== undefined) headers['last-event-id'] = stream.lastEventId;
    return request(this.url, { method: 'GET', dispatcher: this.dispatcher, headers, signal: stream.signal, bodyTimeout: 0 });
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

  private deliverInvalid(requestId: JsonRpcId, reason: string): void {
    this.deliver(
      errorResponse(requestId, ErrorCode.UpstreamUnavailable, `upstream ${this.upstreamId} sent an invalid response: ${reason}`),
      requestId,
    );
  }

  private report(what: string, cause?: unknown): void {
    const message = cause === undefined ? what : `${what}: ${describe(cause)}`;
    this.onerror?.(new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_PROTOCOL', message, { cause }));
  }

  private requestError(err: unknown, signal: AbortSignal): UpstreamTransportError {
    if (this.closed) return this.closedError(err);
    if (signal.aborted) return new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_ABORTED', 'the request was aborted', { cause: err });
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
      return new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_TIMEOUT', `timed out at ${this.where} (${describe(err)})`, { cause: err });
    }
    return new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_UNREACHABLE', `cannot be reached at ${this.where} (${describe(err)})`, { cause: err });
  }

  private closedError(cause?: unknown): UpstreamTransportError {
    return new UpstreamTransportError(this.upstreamId, 'ERR_UPSTREAM_CLOSED', 'the transport is closed', { cause });
  }

  /** A controller for one request or stream, aborted by the caller's signal or by close(). */
  private track(signal: AbortSignal | undefined): AbortController {
    const controller = new AbortController();
    if (signal !== undefined) {
      if (signal.aborted) controller.abort(signal.reason);
      else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true, signal: controller.signal });
    }
    this.inFlight.add(controller);
    return controller;
  }

  /** Done with a request: drop it and detach from the caller's signal. */
  private untrack(controller: AbortController): void {
    if (this.inFlight.delete(controller) && !controller.signal.aborted) controller.abort();
  }

  private endEventStream(controller: AbortController): void {
    this.untrack(controller);
    if (this.eventStream === controller) this.eventStream = undefined;
  }

  private expire(): void {
    if (this.closed) return;
    this.session = undefined;
    this.shutdown();
    try {
      this.onclose?.('session expired');
    } catch (err) {
      this.onerror?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private shutdown(): void {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
    this.eventStream = undefined;
  }
}

function newStream<T extends JsonRpcId | undefined>(relatedTo: T, signal: AbortSignal): StreamState & { relatedTo: T } {
  return { relatedTo, signal, lastEventId: undefined, retryMs: DEFAULT_RETRY_MS, answered: false };
}

function parseMessage(text: string): JsonRpcMessage | { invalid: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { invalid: `not JSON: ${JSON.stringify(text.slice(0, 80))}` };
  }
  return classifyMessage(value);
}

function isSuccess(res: ResponseData): boolean {
  return res.statusCode >= 200 && res.statusCode < 300;
}

/** `text/event-stream; charset=utf-8` → `text/event-stream`; '' when absent. */
function mediaType(res: ResponseData): string {
  const value = res.headers['content-type'];
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return '';
  const semicolon = raw.indexOf(';');
  return (semicolon === -1 ? raw : raw.slice(0, semicolon)).trim().toLowerCase();
}

async function readCapped(body: Body, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(size, limit));
}

/** Waits `ms`; false when the signal aborted first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
