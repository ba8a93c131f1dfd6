import type { ServerResponse } from 'node:http';
import type { ReplyChannel } from '../pipeline/stages.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

/**
 * Where messages for one downstream request (or the session's GET stream) go.
 *
 * A POST channel starts undecided: if the first message is the final response it is sent as
 * plain JSON (cheapest); anything sent before the response (progress, logging, a server→client
 * request) switches it to an SSE stream that ends after the response. Every SSE event gets an
 * id `<streamId>/<seq>` and is kept in a short buffer so a client that lost the connection
 * can resume with `Last-Event-ID` (GET) and miss nothing.
 */
export class MessageChannel implements ReplyChannel {
  readonly streamId: string;
  private res: ServerResponse | undefined;
  private mode: 'undecided' | 'json' | 'sse' = 'undecided';
  private seq = 0;
  private readonly buffer: Array<{ seq: number; frame: string }> = [];
  private ended = false;
  private deliveredToClient = false;
  private readonly isFinal: (m: JsonRpcMessage) => boolean;
  /** Called when the client's connection closes before the channel ended. */
  onDisconnect?: () => void;

  private readonly priming: boolean;

  /**
   * @param opts.priming send an id-only priming event when the stream opens (2025-11-25 and later;
   *   older clients may not expect an empty data field).
   */
  constructor(streamId: string, res: ServerResponse, opts: { sse?: boolean; isFinal: (m: JsonRpcMessage) => boolean; priming: boolean }) {
    this.streamId = streamId;
    this.isFinal = opts.isFinal;
    this.priming = opts.priming;
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

  /** Sends one message. Returns false when nothing could be sent or kept. */
  send(message: JsonRpcMessage): boolean {
    if (this.ended) return false;
    const final = this.isFinal(message);
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
      this.startSse();
    }
    const seq = ++this.seq;
    const frame = `id: ${this.streamId}/${seq}\ndata: ${JSON.stringify(message)}\n\n`;
    this.buffer.push({ seq, frame });
    if (this.buffer.length > 1000) this.buffer.shift();
    this.res?.write(frame);
    if (final) {
      if (this.res) {
        this.res.end();
        this.deliveredToClient = true;
      }
      this.finish();
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
    res.writeHead(200, sseHeaders());
    for (const e of this.buffer) if (e.seq > lastSeq) res.write(e.frame);
    if (this.ended) {
      res.end();
      return;
    }
    this.attach(res);
  }

  private startSse(): void {
    if (this.mode === 'sse' || !this.res) {
      this.mode = 'sse';
      return;
    }
    this.mode = 'sse';
    this.res.writeHead(200, sseHeaders());
    if (this.priming) {
      // An id with empty data lets the client resume even before the first real message.
      const seq = ++this.seq;
      const frame = `id: ${this.streamId}/${seq}\nretry: 1000\ndata: \n\n`;
      this.buffer.push({ seq, frame });
      this.res.write(frame);
    } else {
      this.res.flushHeaders();
    }
  }

  private attach(res: ServerResponse): void {
    this.res = res;
    res.on('close', () => {
      if (this.res !== res) return;
      this.res = undefined;
      if (!this.ended) this.onDisconnect?.();
    });
  }

  private detach(): void {
    const old = this.res;
    this.res = undefined;
    if (old && !old.writableEnded) old.end();
  }

  private finish(): void {
    this.ended = true;
  }
}

export function sseHeaders(): Record<string, string> {
  return { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive' };
}
