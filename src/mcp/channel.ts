import type { ServerResponse } from 'node:http';
import { LIMIT_DEFAULTS } from '../config/limits.js';
import type { Principal, ReplyChannel } from '../pipeline/stages.js';
import type { JsonRpcId, JsonRpcMessage } from '../protocol/jsonrpc.js';
import { type LimitName, limitError, type PrincipalLimits, type PrincipalUsage, type StreamBudget } from './principal-limits.js';

export interface ChannelOptions {
  /** Open as an SSE stream at once (the GET stream). */
  sse?: boolean;
  isFinal: (m: JsonRpcMessage) => boolean;
  /**
   * Send an id-only priming event when the stream opens (2025-11-25 and later; older clients may
   * not expect an empty data field).
   */
  priming: boolean;
  /** The request this channel answers: a stream refused or overflowed ends with an error under this id. */
  requestId?: JsonRpcId;
  /** Aborted when the stream is refused or overflows, so the call is cancelled upstream. */
  abort?: AbortController;
  /** Caps and counters (`limits:`); absent: the default byte bounds and no stream count. */
  limits?: PrincipalLimits;
  usage?: PrincipalUsage;
  /** Who the stream is for and what it answers, for the record of a refusal. */
  caller?: { readonly principal: Principal; readonly sessionId?: string };
  method?: string;
}

/** Without `limits`: the default per-stream bound, no shared total. */
const UNSHARED: StreamBudget = { used: 0, limit: Number.POSITIVE_INFINITY };
/** Events kept for resumption, at most (besides the byte bound). */
const KEPT_EVENTS = 1000;
/**
 * Characters kept for resumption while the client takes everything: what a dropped connection
 * may have lost in flight. While it does not, everything it has not taken is kept (that is the
 * backlog, bounded by `stream_buffer_bytes` and counted in the total).
 */
const KEPT_WHILE_FLOWING = 64 * 1024;

/**
 * Where messages for one downstream request (or the session's GET stream) go.
 *
 * A POST channel starts undecided: if the first message is the final response it is sent as
 * plain JSON (cheapest; none of what follows runs); anything sent before the response
 * (progress, logging, a server→client request) switches it to an SSE stream that ends after the
 * response. Every SSE event gets an id `<streamId>/<seq>` and the latest are kept (64 KiB while
 * the client reads, what it has not taken while it does not) so a client that lost the
 * connection can resume with `Last-Event-ID`.
 *
 * Backpressure: when the client's socket does not take what is written (`write()` returns
 * false) or the client is away, the channel is congested until `drain` (or a resume).
 * Meanwhile `ready()` hands out a promise the upstream reader awaits before reading on (HTTP
 * upstreams pause there); what still arrives is counted, and a stream holding more than
 * `stream_buffer_bytes` (or all streams more than `total_stream_buffer_bytes`) when one more
 * message comes is ended with a JSON-RPC error naming the limit and its call is cancelled.
 * The final response never overflows a stream: it is the end of it.
 */
export class MessageChannel implements ReplyChannel {
  readonly streamId: string;
  private res: ServerResponse | undefined;
  private mode: 'undecided' | 'json' | 'sse' = 'undecided';
  private seq = 0;
  private readonly buffer: Array<{ seq: number; frame: string }> = [];
  /** Characters in `buffer`. */
  private kept = 0;
  private ended = false;
  private deliveredToClient = false;
  /** The client is not taking what is written (socket full, or away). */
  private congested = false;
  /** What this stream counts in the budget: its backlog when last measured. */
  private held = 0;
  private counted = false;
  private waiting: Promise<void> | undefined;
  private wakeWaiters: (() => void) | undefined;
  private readonly opts: ChannelOptions;
  /** Called when the client's connection closes before the channel ended. */
  onDisconnect?: () => void;

  constructor(streamId: string, res: ServerResponse, opts: ChannelOptions) {
    this.streamId = streamId;
    this.opts = opts;
    this.attach(res);
    if (opts.sse) this.startSse();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get isAttached(): boolean {
    return this.res !== undefined;
  }

  /**
   * The final message was written to a connected client, so nobody will resume this stream and
   * its buffer can go. (A stream that ended while the client was away is kept for resumption.)
   */
  get delivered(): boolean {
    return this.deliveredToClient;
  }

  /** Undefined while the client takes what is sent; else resolves once it does again (or the channel ends). */
  ready(): Promise<void> | undefined {
    if (!this.congested || this.ended) return undefined;
    this.waiting ??= new Promise<void>((resolve) => {
      this.wakeWaiters = resolve;
    });
    return this.waiting;
  }

  /** Sends one message. Returns false when nothing could be sent or kept. */
  send(message: JsonRpcMessage): boolean {
    if (this.ended) return false;
    const final = this.opts.isFinal(message);
    if (this.mode === 'undecided') {
      if (final && this.res) {
        const body = JSON.stringify(message);
        this.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        this.res.end(body);
        this.mode = 'json';
        this.deliveredToClient = true;
        this.finish();
        return true;
      }
      if (!this.startSse()) return false;
    }
    const seq = ++this.seq;
    const frame = `id: ${this.streamId}/${seq}\ndata: ${JSON.stringify(message)}\n\n`;
    this.keep(seq, frame);
    const res = this.res;
    if (res) {
      if (!res.write(frame)) this.congest(res);
    } else if (!final) {
      this.hold(this.held + frame.length);
    }
    if (final) {
      if (res) {
        res.end();
        this.deliveredToClient = true;
      }
      this.finish();
    } else if (this.congested) {
      this.checkBounds();
    }
    return true;
  }

  /**
   * Answers the whole HTTP request with `status` and `headers` (e.g. 403 with
   * `WWW-Authenticate: Bearer error="insufficient_scope"`) and `message` as a JSON body — only
   * possible before anything was sent. Returns false when the response has started; the
   * caller then sends `message` the ordinary way.
   */
  refuse(status: number, headers: Record<string, string>, message: JsonRpcMessage): boolean {
    if (this.ended || this.mode !== 'undecided' || !this.res || this.res.headersSent) return false;
    const body = JSON.stringify(message);
    this.res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    this.res.end(body);
    this.mode = 'json';
    this.finish();
    return true;
  }

  /** Ends the stream without a final message (e.g. after the client cancelled). */
  close(): void {
    if (this.ended) return;
    if (this.res) {
      if (this.mode === 'undecided') {
        this.res.writeHead(204).end();
      } else {
        this.res.end();
      }
    }
    this.finish();
  }

  /** Re-attaches a resumed connection and replays what it missed after `lastSeq`. */
  resume(res: ServerResponse, lastSeq: number): void {
    this.detach();
    this.hold(0);
    res.writeHead(200, sseHeaders());
    let taken = true;
    for (const e of this.buffer) if (e.seq > lastSeq) taken = res.write(e.frame);
    if (this.ended) {
      res.end();
      return;
    }
    this.attach(res);
    if (taken) this.wake();
    else this.congest(res);
  }

  /** Turns the answer into an SSE stream; false when the principal's stream cap refused it. */
  private startSse(): boolean {
    const { limits, usage, caller } = this.opts;
    if (limits && usage && caller && !this.counted) {
      if (!limits.openStream(usage, caller.principal, this.opts.method ?? 'stream', caller.sessionId)) {
        const max = limits.config.streamsPerPrincipal;
        const refusal = limitError(this.opts.requestId ?? null, 'streams_per_principal', max, 'this principal has too many response streams open');
        // A call's answer is its JSON-RPC error (HTTP 200, as any other); a GET stream has none: 429.
        const status = this.opts.requestId === undefined ? 429 : 200;
        if (!this.refuse(status, status === 429 ? { 'retry-after': '1' } : {}, refusal)) this.close();
        this.opts.abort?.abort('streams_per_principal reached');
        return false;
      }
      this.counted = true;
    }
    if (this.mode === 'sse' || !this.res) {
      this.mode = 'sse';
      return true;
    }
    this.mode = 'sse';
    this.res.writeHead(200, sseHeaders());
    if (this.opts.priming) {
      // An id with empty data lets the client resume even before the first real message.
      const seq = ++this.seq;
      const frame = `id: ${this.streamId}/${seq}\nretry: 1000\ndata: \n\n`;
      this.keep(seq, frame);
      this.res.write(frame);
    } else {
      this.res.flushHeaders();
    }
    return true;
  }

  /** Keeps an event for resumption, dropping the oldest past the byte bound. */
  private keep(seq: number, frame: string): void {
    this.buffer.push({ seq, frame });
    this.kept += frame.length;
    const max = this.congested ? (this.opts.limits?.config.streamBufferBytes ?? LIMIT_DEFAULTS.streamBufferBytes) : KEPT_WHILE_FLOWING;
    while ((this.kept > max && this.buffer.length > 1) || this.buffer.length > KEPT_EVENTS) this.kept -= this.buffer.shift()!.frame.length;
  }

  /** The socket did not take all of it: count its backlog and wait for `drain`. */
  private congest(res: ServerResponse): void {
    this.hold(res.writableLength);
    if (this.congested) return;
    this.congested = true;
    res.once('drain', () => {
      if (this.res !== res) return;
      this.hold(0);
      this.wake();
    });
  }

  private hold(bytes: number): void {
    const budget = this.opts.limits?.budget ?? UNSHARED;
    budget.used += bytes - this.held;
    this.held = bytes;
  }

  private wake(): void {
    this.congested = false;
    const wake = this.wakeWaiters;
    this.waiting = undefined;
    this.wakeWaiters = undefined;
    wake?.();
  }

  /** One more message came while the client was not taking them: past a bound, the stream ends. */
  private checkBounds(): void {
    const limits = this.opts.limits;
    const streamMax = limits?.config.streamBufferBytes ?? LIMIT_DEFAULTS.streamBufferBytes;
    if (this.held > streamMax) {
      this.overflow('stream_buffer_bytes', streamMax, `the client did not read this stream; ${this.held} bytes were waiting for it`);
    } else if (limits && limits.budget.used > limits.budget.limit) {
      this.overflow('total_stream_buffer_bytes', limits.budget.limit, `clients did not read their streams; ${limits.budget.used} bytes were waiting in all`);
    }
  }

  private overflow(limit: LimitName, max: number, why: string): void {
    const { limits, caller, requestId } = this.opts;
    if (limits && caller) limits.refuse(limit, max, caller.principal, { method: this.opts.method, sessionId: caller.sessionId }, why);
    if (requestId !== undefined) this.send(limitError(requestId, limit, max, `${why}, so the call was cancelled`));
    else this.close();
    this.opts.abort?.abort(`${limit} reached: ${why}`);
  }

  private attach(res: ServerResponse): void {
    this.res = res;
    res.on('close', () => {
      if (this.res !== res) return;
      this.res = undefined;
      this.hold(0);
      if (this.ended) return;
      // Away counts as not reading: what arrives now waits for a resume, within the bounds.
      this.congested = true;
      this.onDisconnect?.();
    });
  }

  private detach(): void {
    const old = this.res;
    this.res = undefined;
    if (old && !old.writableEnded) old.end();
  }

  private finish(): void {
    this.ended = true;
    this.hold(0);
    if (this.counted) {
      this.counted = false;
      this.opts.limits?.closeStream(this.opts.usage!);
    }
    this.wake();
  }
}

export function sseHeaders(): Record<string, string> {
  return { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive' };
}
