import type { Socket } from 'node:net';
import type { Logger } from '../log.js';

/** Error codes of a client that went away (reset, closed mid-request): a notice, not a fault. */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

export function isClientGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CLIENT_GONE.has(code);
}

/** The status a connection-level refusal is answered with, by Node's error code. */
function statusFor(code: string | undefined): [number, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout'];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Payload Too Large'];
    default:
      return [400, 'Bad Request'];
  }
}

/**
 * Node's `clientError`: a request that timed out (headers or whole request too slow), could not
 * be parsed, or whose client vanished before a request was handed over. Answered with a status
 * when the connection can still carry one, then closed; one log line each, never a stack.
 */
export function clientErrorHandler(logger: Logger): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    const remote = socket.remoteAddress ?? 'unknown';
    if (isClientGone(err)) {
      logger.log('debug', `client ${remote} went away before its request was read (${err.code})`);
      socket.destroy();
      return;
    }
    const [status, text] = statusFor(err.code);
    const why = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'not received within listener.limits headers_timeout_ms / request_timeout_ms' : `${err.code ?? 'malformed'}`;
    logger.log('warn', `refused request from ${remote}: ${status} ${text} (${why})`);
    // Once a response has started on this socket, a second status line would corrupt it.
    const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !answering?.headersSent) {
      const body = JSON.stringify({ error: text.toLowerCase().replaceAll(' ', '_'), message: `${status} ${text}` });
      socket.on('error', () => {});
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    socket.destroy();
  };
}
