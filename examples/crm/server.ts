/**
 * The example CRM upstream: SDK v2 McpServer tools served over Streamable HTTP on node:http,
 * speaking both the 2025 eras (stateless legacy fallback) and 2026-07-28 (per-request envelope).
 *
 * Run alone:  node dist/examples/crm/server.js --port 7421   (or PORT=7421; --host to bind elsewhere)
 * Behind toolgate with per-call token checks:  add --jwks-url http://127.0.0.1:7420/.well-known/jwks.json
 * (used token ids are kept in .toolgate/crm-used-jti, or --replay-file PATH; --replay memory to
 * keep them in memory only, so that a restart forgets them).
 * It prints its URL (http://127.0.0.1:7421/mcp) on stdout and logs to stderr.
 *
 * @example
 *   const crm = await startCrmServer({ port: 0 });
 *   // connect an MCP client to crm.url …
 *   crm.receivedHeaders(); // headers of every HTTP request that reached the CRM
 *   await crm.close();
 */
import { realpathSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { type CallChain, CallVerifier, verifyFetchRequests } from '@toolgate/verify';
import { createCrmMcpServer } from './mcp.js';
import { listen } from './node-http.js';
import { CrmStore } from './store.js';

export interface CrmServerOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one (read it from the returned url). */
  port: number;
  /** Clock for record timestamps; default wall time. */
  now?: () => Date;
  /** Where to report rejected requests and handler errors; default: nowhere. */
  log?: (line: string) => void;
  /**
   * Verify toolgate's per-call token on every call (@toolgate/verify): the gateway's JWKS URL, and
   * optionally this server's audience (default: its own URL) and the issuer. Absent: no check,
   * as for a server reached directly. Used token ids go to `replayFile` (default
   * `.toolgate/crm-used-jti` under the working directory), so a token captured before a restart
   * is still refused after it; `replay: 'memory'` forgets them on restart.
   */
  verify?: { jwksUrl: string; audience?: string; issuer?: string; replayFile?: string; replay?: 'file' | 'memory' };
}

/** A `tools/call` as it arrived at the CRM, before any handler ran. */
export interface ReceivedToolCall {
  name: string;
  arguments: unknown;
  /** The request's `params._meta` as received (trace context, envelope), when it had one. */
  meta?: Record<string, unknown>;
}

export interface CrmServerHandle {
  /** The MCP endpoint, e.g. http://127.0.0.1:7421/mcp. */
  url: string;
  /** Headers of each HTTP request received, oldest first (lower-case names, as node:http gives them). */
  receivedHeaders(): IncomingHttpHeaders[];
  /** Each `tools/call` received, oldest first — lets a test prove a denied call never got here. */
  receivedToolCalls(): ReceivedToolCall[];
  /** Who each verified call came from — user, agent, gateway — when `verify` is set. */
  verifiedChains(): CallChain[];
  close(): Promise<void>;
}

const MCP_PATH = '/mcp';
/** Where the CRM remembers used per-call token ids by default: beside the demo's other state. */
export const CRM_REPLAY_FILE = '.toolgate/crm-used-jti';
/** Bound on each recorded list, so a benchmark run cannot grow them without limit. */
const MAX_RECORDED = 10_000;

export async function startCrmServer(options: CrmServerOptions): Promise<CrmServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const store = new CrmStore(options.now ? { now: options.now } : {});
  const headersLog: IncomingHttpHeaders[] = [];
  const callsLog: ReceivedToolCall[] = [];
  const log = options.log;

  const handler = createMcpHandler(() => createCrmMcpServer(store), {
    ...(log && { onerror: (error: Error) => log(`crm: ${error.message}`) }),
  });
  const chains: CallChain[] = [];
  // Set once the URL (the default audience) is known; the handler runs only after that.
  let verified: ((request: Request) => Promise<Response>) | undefined;
  const fetchAndRecord = async (request: Request): Promise<Response> => {
    if (verified !== undefined) return verified(request);
    return recordAndHandle(request);
  };
  const recordAndHandle = async (request: Request): Promise<Response> => {
    if (request.method === 'POST') {
      for (const call of toolCallsIn(await request.clone().text())) record(callsLog, call);
    }
    return handler.fetch(request);
  };

  const { server, port } = await listen(fetchAndRecord, {
    host,
    port: options.port,
    path: MCP_PATH,
    onRequest: (headers) => record(headersLog, structuredClone(headers)),
  });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${MCP_PATH}`;
  if (options.verify !== undefined) {
    const verifier = new CallVerifier({
      jwksUrl: options.verify.jwksUrl,
      audience: options.verify.audience ?? url,
      ...(options.verify.issuer !== undefined ? { issuer: options.verify.issuer } : {}),
      ...(options.verify.replay === 'memory' ? { replay: 'memory' as const } : { replayFile: options.verify.replayFile ?? CRM_REPLAY_FILE }),
    });
    verified = verifyFetchRequests(verifier, recordAndHandle, (chain) => {
      record(chains, chain);
      log?.(
        `crm: ${chain.tool} for ${chain.user ?? '(no user)'} by ${chain.agent} via ${chain.gateway.instance ?? chain.gateway.issuer}${chain.audit ? ` (audit ${chain.audit.chain}#${chain.audit.pos})` : ''}`,
      );
    });
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    receivedHeaders: () => headersLog.map((h) => ({ ...h })),
    receivedToolCalls: () => callsLog.map((c) => ({ ...c })),
    verifiedChains: () => [...chains],
    close: () =>
      (closing ??= (async () => {
        await handler.close();
        const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
        server.closeAllConnections();
        await closed;
      })()),
  };
}

function record<T>(list: T[], entry: T): void {
  list.push(entry);
  if (list.length > MAX_RECORDED) list.shift();
}

function toolCallsIn(body: string): ReceivedToolCall[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  return messages.flatMap((m) => {
    const msg = m as { method?: unknown; params?: { name?: unknown; arguments?: unknown; _meta?: unknown } } | null;
    if (msg?.method !== 'tools/call' || typeof msg.params?.name !== 'string') return [];
    const meta = msg.params._meta;
    const hasMeta = typeof meta === 'object' && meta !== null && !Array.isArray(meta);
    return [{ name: msg.params.name, arguments: msg.params.arguments, ...(hasMeta ? { meta: meta as Record<string, unknown> } : {}) }];
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, host: { type: 'string' }, 'jwks-url': { type: 'string' }, 'replay-file': { type: 'string' }, replay: { type: 'string' } },
  });
  const portText = values.port ?? process.env.PORT ?? '7421';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`crm: --port must be an integer 0-65535, got "${portText}"\n`);
    process.exit(2);
  }
  // Behind toolgate: verify its per-call tokens against the gateway's JWKS.
  const jwksUrl = values['jwks-url'] ?? process.env.TOOLGATE_JWKS_URL;
  const replay = values.replay ?? process.env.TOOLGATE_REPLAY ?? 'file';
  if (replay !== 'file' && replay !== 'memory') {
    process.stderr.write(`crm: --replay must be file or memory, got "${replay}"\n`);
    process.exit(2);
  }
  const replayFile = values['replay-file'] ?? process.env.TOOLGATE_REPLAY_FILE;
  const crm = await startCrmServer({
    port,
    ...(values.host !== undefined && { host: values.host }),
    ...(jwksUrl !== undefined && jwksUrl !== '' && { verify: { jwksUrl, replay, ...(replayFile ? { replayFile } : {}) } }),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${crm.url}\n`);
  process.stderr.write(`crm: example CRM MCP server listening on ${crm.url} (tenants acme, globex)\n`);
  const stop = () => void crm.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`crm: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
