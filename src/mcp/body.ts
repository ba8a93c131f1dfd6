import type { IncomingMessage } from 'node:http';
import { ToolgateError } from '../errors.js';

/** Local form only: the endpoint answers 413 with its own words. */
export class BodyTooLargeError extends ToolgateError {
  constructor(readonly limit: number) {
    super('ERR_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
  }
}

/** Reads a request body up to `limit` bytes; stops reading (and rejects) as soon as it is exceeded. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  // The client may have gone while the request was being authenticated: its 'error' is past.
  if (req.destroyed) return Promise.reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A request refused before its body was read (no valid credential): the body is discarded,
 * never buffered. A body announced within `limit` bytes (or already complete) is drained so the
 * connection can carry the next request; any other is read for at most `limit` more bytes while
 * the refusal goes out, then the connection is closed. Returns true when it must close (the
 * caller says so with `Connection: close`).
 */
export function refuseUnread(req: IncomingMessage, limit: number): boolean {
  if (req.complete) return false;
  const declared = Number(req.headers['content-length']);
  // The HTTP parser stops at Content-Length, so a small announced body is bounded by itself.
  if (req.headers['transfer-encoding'] === undefined && Number.isFinite(declared) && declared <= limit) {
    req.resume();
    return false;
  }
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limit) req.socket.destroy();
  });
  return true;
}
