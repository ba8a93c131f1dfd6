/**
 * Incremental parser for `text/event-stream` bodies (WHATWG HTML, "Server-sent events",
 * §9.2.6 "Interpreting an event stream"), fed decoded text as it arrives off the socket.
 *
 * Differences from the browser algorithm, on purpose:
 * - A block that sets only `id:` or `retry:` is emitted too (with `data` = ''), because the
 *   caller needs those to resume a stream; MCP servers send such "priming" events
 *   (`id: X\ndata: \n\n`) before anything else. Callers skip events whose `data` is ''.
 * - `id` is the id field of this block (undefined when the block has none), not the
 *   stream's running last-event-id: the caller keeps that.
 * - With `maxDataBytes`, an event whose data (UTF-8, lines joined) would exceed it is emitted
 *   with `data` = '' and `oversized: true`, and what it carried is dropped as it arrives: a
 *   server cannot make the parser hold more than about the limit plus one chunk.
 *
 * @example
 * const parser = new SseParser((event) => console.log(event.data));
 * parser.push('data: {"a"');
 * parser.push(':1}\r\n\r\n'); // logs {"a":1}
 */
export interface SseEvent {
  /** The block's `id:` field; '' resets the last event id. */
  id: string | undefined;
  /** The block's `event:` field, 'message' when absent. */
  event: string;
  /** The `data:` lines joined with '\n'; '' when the block had none. */
  data: string;
  /** The block's `retry:` field in milliseconds, when it was a valid integer. */
  retry: number | undefined;
  /** Present (true) only when the data exceeded `maxDataBytes` and was discarded. */
  oversized?: true;
}

export interface SseParserOptions {
  /** Largest `data` of one event, in UTF-8 bytes; default unlimited. */
  maxDataBytes?: number;
}

/** `data: `, the longest a data line can be beyond its value. */
const DATA_PREFIX_BYTES = 6;

export class SseParser {
  private readonly onEvent: (event: SseEvent) => void;
  private readonly maxDataBytes: number;
  /** Pieces of a line whose end has not arrived yet; joined once, when it does. */
  private readonly partial: string[] = [];
  private partialBytes = 0;
  /** The line being read is longer than any event may be: drop it up to its end. */
  private skippingLine = false;
  /** The previous chunk ended with CR: a LF opening the next chunk belongs to that line end. */
  private skipLeadingLf = false;
  private atStart = true;

  private data: string[] = [];
  private eventType = '';
  private id: string | undefined;
  private retry: number | undefined;
  private hasFields = false;
  private dataBytes = 0;
  private oversized = false;

  constructor(onEvent: (event: SseEvent) => void, options: SseParserOptions = {}) {
    this.onEvent = onEvent;
    this.maxDataBytes = options.maxDataBytes ?? Infinity;
  }

  /** Feeds the next piece of the stream; complete events are emitted before this returns. */
  push(chunk: string): void {
    let pos = 0;
    if (this.atStart && chunk.length > 0) {
      this.atStart = false;
      if (chunk.charCodeAt(0) === 0xfeff) pos = 1;
    }
    if (this.skipLeadingLf && chunk.length > 0) {
      this.skipLeadingLf = false;
      if (chunk.charCodeAt(pos) === 0x0a) pos++;
    }
    let lf = chunk.indexOf('\n', pos);
    let cr = chunk.indexOf('\r', pos);
    while (lf !== -1 || cr !== -1) {
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      let line = chunk.slice(pos, end);
      if (this.skippingLine) {
        this.skippingLine = false;
      } else {
        if (this.partial.length > 0) {
          this.partial.push(line);
          line = this.partial.join('');
          this.partial.length = 0;
          this.partialBytes = 0;
        }
        this.processLine(line);
      }
      pos = end + 1;
      if (end === cr) {
        if (pos === chunk.length) this.skipLeadingLf = true;
        else if (chunk.charCodeAt(pos) === 0x0a) pos++;
        cr = chunk.indexOf('\r', pos);
      }
      if (lf !== -1 && lf < pos) lf = chunk.indexOf('\n', pos);
    }
    if (pos < chunk.length && !this.skippingLine) {
      const rest = chunk.slice(pos);
      this.partialBytes += utf8Bytes(rest, this.maxDataBytes);
      // A line longer than `data: ` plus the limit cannot belong to an event we keep (as a data
      // line it exceeds the limit by itself): mark the event and stop holding the line.
      if (this.partialBytes > this.maxDataBytes + DATA_PREFIX_BYTES) this.skipLine();
      else this.partial.push(rest);
    }
  }

  /** The stream ended: an event without its closing blank line is discarded, as browsers do. */
  end(): void {
    this.partial.length = 0;
    this.partialBytes = 0;
    this.skippingLine = false;
    this.reset();
  }

  private skipLine(): void {
    this.partial.length = 0;
    this.partialBytes = 0;
    this.skippingLine = true;
    this.markOversized();
  }

  private markOversized(): void {
    this.oversized = true;
    this.hasFields = true;
    this.data = [];
    this.dataBytes = 0;
  }

  private processLine(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'data': {
        this.hasFields = true;
        if (this.oversized) break;
        // Lines are joined with '\n': one byte per line after the first.
        this.dataBytes += utf8Bytes(value, this.maxDataBytes) + (this.data.length > 0 ? 1 : 0);
        if (this.dataBytes > this.maxDataBytes) this.markOversized();
        else this.data.push(value);
        break;
      }
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.id = value;
          this.hasFields = true;
        }
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) {
          this.retry = Number(value);
          this.hasFields = true;
        }
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    if (this.hasFields) {
      const event: SseEvent = {
        id: this.id,
        event: this.eventType === '' ? 'message' : this.eventType,
        data: this.data.length === 1 ? this.data[0]! : this.data.join('\n'),
        retry: this.retry,
      };
      if (this.oversized) event.oversized = true;
      this.onEvent(event);
    }
    this.reset();
  }

  private reset(): void {
    this.data = [];
    this.eventType = '';
    this.id = undefined;
    this.retry = undefined;
    this.hasFields = false;
    this.dataBytes = 0;
    this.oversized = false;
  }
}

/**
 * UTF-8 length of `text` as far as a limit needs it: exact when it can matter, skipped when the
 * limit is infinite or the text has more code units than the limit (each unit is at least a byte,
 * so it is over either way).
 */
export function utf8Bytes(text: string, limit: number): number {
  if (limit === Infinity || text.length > limit) return text.length;
  return Buffer.byteLength(text, 'utf8');
}
