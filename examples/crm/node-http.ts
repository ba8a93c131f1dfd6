/**
 * Serving a web-standard fetch handler (SDK v2's createMcpHandler) on node:http.
 *
 * SDK v2 leaves the Node glue to a separate `@modelcontextprotocol/node` package (toNodeHandler),
 * which toolgate does not depend on; these ~80 lines are that glue. Response bodies are streamed
 * chunk by chunk so SSE answers reach the client as they are produced, and a client that goes
 * away aborts the in-flight exchange.
 */

import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

export type FetchHandler = (request: Request) => Promise<Response>;

export interface NodeHttpOptions {
  host: string;
  port: number;
  /** Mount path of the handler; other paths answer 404. */
  path: string;
  /** Called with every request's headers before it is handled (including 404s). */
  onRequest?: (headers: IncomingHttpHeaders) => void;
}

// Hop-by-hop headers belong to this connection, not to the request the handler sees.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export async function listen(handler: FetchHandler, options: NodeHttpOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    options.onRequest?.(req.headers);
    serve(handler, options, req, res).catch((error: unknown) => {
      process.stderr.write(`crm: ${error instanceof Error ? error.stack : String(error)}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end();
    });
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

async function serve(handler: FetchHandler, options: NodeHttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `${options.host}:${options.port}`}`);
  if (url.pathname !== options.path) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no MCP endpoint at ${url.pathname}; use ${options.path}` }));
    return;
  }

  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });

  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const request = new Request(url, {
    method: req.method ?? 'GET',
    headers,
    signal: abort.signal,
    ...(hasBody && { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' }),
  });

  const response = await handler(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body === null) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  abort.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  } finally {
    res.end();
  }
}
