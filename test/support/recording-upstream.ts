/**
 * An upstream MCP server (SDK v1, Streamable HTTP, stateless) that records every HTTP request it
 * receives — all headers and the parsed body — before anything else looks at it, and counts the
 * tool calls its handlers actually ran. Optionally verifies toolgate's per-call tokens with
 * toolgate/verify, and optionally serves HTTPS with client certificates (mTLS).
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { type CallChain, type CallVerifier, verifyNodeRequests } from '@toolgate/verify';
import { z } from 'zod';

export interface RecordedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** Raw header lines as received (names and values), to search for bytes that must not be there. */
  rawHeaders: string[];
  body: unknown;
  /** Subject of the client certificate, when the connection was mutual TLS. */
  clientCertificate?: string;
}

export interface RecordingUpstream {
  url: string;
  requests: RecordedRequest[];
  /** Tool calls the handlers ran (after verification, when a verifier is set). */
  executed: Array<{ tool: string; args: unknown }>;
  /** The chain of each verified call. */
  chains: CallChain[];
  setVerifier(verifier: CallVerifier | undefined): void;
  close(): Promise<void>;
}

export interface RecordingOptions {
  verifier?: CallVerifier;
  tls?: { key: string; cert: string; ca: string };
}

function buildServer(executed: RecordingUpstream['executed']): McpServer {
  const server = new McpServer({ name: 'recording', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echoes its arguments.', inputSchema: { text: z.string(), n: z.number().optional(), tags: z.array(z.string()).optional() } },
    async (args) => {
      executed.push({ tool: 'echo', args });
      return { content: [{ type: 'text', text: JSON.stringify(args) }] };
    },
  );
  server.registerTool('delete_record', { description: 'Deletes a record.', inputSchema: { id: z.string() } }, async (args) => {
    executed.push({ tool: 'delete_record', args });
    return { content: [{ type: 'text', text: `deleted ${args.id}` }] };
  });
  return server;
}

export async function startRecordingUpstream(options: RecordingOptions = {}): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  const executed: RecordingUpstream['executed'] = [];
  const chains: CallChain[] = [];
  let verifier = options.verifier;

  const serveMcp = async (req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> => {
    // Stateless: a fresh server and transport per request (SDK v1's documented stateless mode).
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const server = buildServer(executed);
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const socket = req.socket as TLSSocket;
    const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    const entry: RecordedRequest = {
      method: req.method ?? '',
      headers: structuredClone(req.headers),
      rawHeaders: [...req.rawHeaders],
      body: undefined,
      ...(peer?.subject ? { clientCertificate: `CN=${peer.subject.CN}` } : {}),
    };
    requests.push(entry);
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8');
    entry.body = JSON.parse(text);
    if (verifier === undefined) {
      await serveMcp(req, res, entry.body);
      return;
    }
    // The verifying middleware reads the body itself; hand it the bytes again.
    const replay = Object.assign(Object.create(req) as IncomingMessage, {
      [Symbol.asyncIterator]: async function* () {
        yield Buffer.from(text);
      },
    });
    await verifyNodeRequests(verifier, async (_r, response, body, chain) => {
      if (chain) chains.push(chain);
      await serveMcp(req, response, body);
    })(replay, res);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handler(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  };
  const server: Server = options.tls
    ? (createHttpsServer({ key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true }, onRequest) as unknown as Server)
    : createHttpServer(onRequest);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/mcp`,
    requests,
    executed,
    chains,
    setVerifier(v) {
      verifier = v;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
