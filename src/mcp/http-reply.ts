import type { ServerResponse } from 'node:http';

/**
 * Answers an HTTP request with one JSON body. Every JSON answer the gateway writes itself (the
 * MCP endpoints' refusals and single responses, the health probes, the public documents) goes
 * through here, so Content-Type and Content-Length are always set the same way.
 */
export function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
