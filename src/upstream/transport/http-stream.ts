import { ErrorCode, errorResponse, isResponse, type JsonRpcId, type JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { ACCEPT_SSE, type Body, isSuccess, mediaType, messageTooLarge, parseMessage, type ResponseData } from './http-body.js';
import { type SseEvent, SseParser } from './sse.js';
import type { Flow, UpstreamTransportError } from './transport.js';

/*
 * Reading an SSE response stream (a POST's, or the standalone GET stream) and resuming a
 * request's stream with GET + Last-Event-ID when it ends before the response.
 *
 * - Each event is delivered as it completes; nothing is buffered to the end of the stream
 *   (a server→client request mid-stream must be answered before the server goes on).
 * - Backpressure: a request's stream carries the downstream's `flow`; while its client does not
 *   take what it is sent, the next chunk is not read, so undici stops reading the socket and
 *   the upstream's writes wait on TCP instead of the gateway's memory.
 * - Resuming happens only when the server gave event ids, after its `retry:` delay; attempts
 *   reset whenever a new event id arrives, so a server that polls (closes streams on purpose)
 *   keeps working.
 * - An event over maxMessageBytes is dropped unparsed. On a request's stream it is taken for
 *   the response (servers send large results, not large notifications): the request gets a
 *   -32010 naming the limit instead of waiting for an answer that was already sent.
 */

const RESUME_ATTEMPTS = 2;
const DEFAULT_RETRY_MS = 1000;
const ANSWERED_LINGER_MS = 2000;

/** One SSE stream being read: whom its messages belong to and where to resume it. */
export interface StreamState {
  /** The request whose stream this is; undefined for the standalone GET stream. */
  readonly relatedTo: JsonRpcId | undefined;
  readonly signal: AbortSignal;
  lastEventId: string | undefined;
  retryMs: number;
  answered: boolean;
  /** Backpressure from whoever takes this stream's messages (a request's stream only). */
  readonly flow: Flow | undefined;
}

/** What a stream reader needs from its transport (a closure over the transport's private state). */
export interface StreamOwner {
  readonly upstreamId: string;
  readonly maxMessageBytes: number;
  /** Hands a message to onmessage; does nothing once the transport is closed. */
  deliver(message: JsonRpcMessage, relatedTo: JsonRpcId | undefined): void;
  /** onerror with an UpstreamTransportError naming the upstream. */
  report(what: string, cause?: unknown): void;
  /** GET on the endpoint for this stream (Accept, session, Last-Event-ID when it has one). */
  get(stream: StreamState): Promise<ResponseData>;
  /** Whether a GET answered `status` is a session rejection (http-session.ts): a session was sent. */
  rejectsSession(status: number): boolean;
  /** Reports a session rejection through onerror; returns the error reported. */
  loseSession(status: number, what: string): UpstreamTransportError;
}

export function newStream<T extends JsonRpcId | undefined>(relatedTo: T, signal: AbortSignal, flow?: Flow): StreamState & { relatedTo: T } {
  return { relatedTo, signal, lastEventId: undefined, retryMs: DEFAULT_RETRY_MS, answered: false, flow };
}

/** Reads a request's SSE stream, resuming it until the response arrives or resuming fails. */
export async function followRequestStream(owner: StreamOwner, first: Body, stream: StreamState & { relatedTo: JsonRpcId }): Promise<void> {
  let body: Body | undefined = first;
  let failures = 0;
  for (;;) {
    if (body !== undefined) {
      const before = stream.lastEventId;
      try {
        await consume(owner, body, stream);
      } catch (err) {
        if (stream.signal.aborted) return;
        owner.report('request stream dropped', err);
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
      const res = await owner.get(stream);
      if (isSuccess(res) && mediaType(res) === ACCEPT_SSE) {
        body = res.body;
      } else {
        await res.body.dump().catch(() => undefined);
        if (owner.rejectsSession(res.statusCode)) {
          // Accepted before, so the request may have run: it gets an error, not a retry.
          owner.deliver(
            errorResponse(
              stream.relatedTo,
              ErrorCode.UpstreamUnavailable,
              `upstream ${owner.upstreamId} lost the session before answering (HTTP ${res.statusCode} when resuming the stream)`,
            ),
            stream.relatedTo,
          );
          owner.loseSession(res.statusCode, 'when resuming a request stream');
          return;
        }
        if (res.statusCode >= 400) break;
      }
    } catch (err) {
      if (stream.signal.aborted) return;
      owner.report('could not resume a request stream', err);
    }
  }
  owner.deliver(errorResponse(stream.relatedTo, ErrorCode.UpstreamUnavailable, `upstream ${owner.upstreamId} closed the stream before answering`), stream.relatedTo);
}

/**
 * Delivers each SSE event of one body as it completes. Once the response is in, the server
 * should end the stream; reading on until it does keeps the connection reusable, and a stream
 * left open after the answer is cut after a short linger instead of being held forever.
 */
export async function consume(owner: StreamOwner, body: Body, stream: StreamState): Promise<void> {
  const parser = new SseParser((event) => onEvent(owner, event, stream), { maxDataBytes: owner.maxMessageBytes });
  // undici's body ignores setEncoding; a streaming decoder keeps split UTF-8 sequences whole.
  const decoder = new TextDecoder();
  let linger: NodeJS.Timeout | undefined;
  try {
    for await (const chunk of body) {
      parser.push(decoder.decode(chunk as Buffer, { stream: true }));
      if (stream.answered && linger === undefined) linger = setTimeout(() => body.destroy(), ANSWERED_LINGER_MS);
      // The client is not taking what this stream sent: read no further until it does.
      const taken = stream.flow?.ready();
      if (taken !== undefined) await taken;
    }
    parser.push(decoder.decode());
    parser.end();
  } catch (err) {
    if (!stream.answered) throw err;
  } finally {
    clearTimeout(linger);
  }
}

function onEvent(owner: StreamOwner, event: SseEvent, stream: StreamState): void {
  if (event.id !== undefined) stream.lastEventId = event.id === '' ? undefined : event.id;
  if (event.retry !== undefined) stream.retryMs = event.retry;
  if (event.event !== 'message' || stream.signal.aborted) return;
  if (event.oversized) {
    owner.report(`sent an event larger than the limit of ${owner.maxMessageBytes} bytes (maxMessageBytes); it was discarded`);
    if (stream.relatedTo !== undefined && !stream.answered) {
      stream.answered = true;
      owner.deliver(messageTooLarge(owner.upstreamId, stream.relatedTo, owner.maxMessageBytes), stream.relatedTo);
    }
    return;
  }
  if (event.data === '') return;
  const message = parseMessage(event.data);
  if ('invalid' in message) {
    owner.report(`sent an invalid message on an event stream: ${message.invalid}`);
    return;
  }
  if (stream.relatedTo !== undefined && isResponse(message) && message.id === stream.relatedTo) stream.answered = true;
  owner.deliver(message, stream.relatedTo);
}

/** Waits `ms`; false when the signal aborted first. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
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
