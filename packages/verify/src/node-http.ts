import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyError } from './errors.js';
import { parseBody, refusalFor } from './refusal.js';
import type { CallChain, CallVerifier } from './verifier.js';

/** What runs once a request passed: the parsed body is handed on, since the stream is consumed. */
export type VerifiedNodeHandler = (req: IncomingMessage, res: ServerResponse, body: unknown, chain: CallChain | undefined) => unknown;

export interface NodeVerificationOptions {
  /** Largest body read, bytes; default 4 MiB. */
  maxBodyBytes?: number;
}

/**
 * Middleware for plain `node:http`: reads and parses a POST body, verifies the per-call token for
 * the call it makes, and answers 401/403 with a JSON-RPC error when it fails. Other requests
 * (GET streams, DELETE) and messages that are not calls pass with `chain` undefined.
 *
 * With the SDK v1 `StreamableHTTPServerTransport`, hand the parsed body on:
 * @example
 * const handle = verifyNodeRequests(verifier, (req, res, body, chain) => transport.handleRequest(req, res, body));
 * createServer((req, res) => void handle(req, res));
 */
export function verifyNodeRequests(verifier: CallVerifier, next: VerifiedNodeHandler, options: NodeVerificationOptions = {}) {
  const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      await next(req, res, undefined, undefined);
      return;
    }
    let body: unknown;
    let chain: CallChain | undefined;
    try {
      const text = await readText(req, limit);
      body = parseBody(text);
      if (body === undefined) throw new BodyError('the body is not JSON');
      chain = await verifier.verify(header(req.headers.authorization), body);
    } catch (err) {
      const refusal = refusalFor(err, body);
      res.writeHead(refusal.status, refusal.headers).end(refusal.body);
      return;
    }
    await next(req, res, body, chain);
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readText(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyError(`the body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
