import { type Pool, request } from 'undici';

/**
 * The load driver's MCP client: raw Streamable HTTP over an undici Pool (keep-alive), no SDK,
 * so the driver's own cost stays small. A session does initialize once, then tools/call.
 * Accepts both plain JSON and SSE responses (the SDK-based servers answer with SSE).
 */

const ACCEPT = 'application/json, text/event-stream';
const CLIENT_VERSION = '2025-11-25';

export class CallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallError';
  }
}

export class McpHttpSession {
  private nextId = 2;
  private readonly callHeaders: Record<string, string>;
  private readonly bodyTails = new Map<string, string>();

  private constructor(
    private readonly pool: Pool,
    private readonly path: string,
    readonly sessionId: string | undefined,
    readonly protocolVersion: string,
    extraHeaders: Record<string, string>,
  ) {
    this.callHeaders = { ...extraHeaders, 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': protocolVersion };
    if (sessionId !== undefined) this.callHeaders['mcp-session-id'] = sessionId;
  }

  /** initialize + notifications/initialized; the pool must point at the URL's origin. */
  static async open(pool: Pool, url: URL, extraHeaders: Record<string, string> = {}): Promise<McpHttpSession> {
    const path = url.pathname + url.search;
    const init = await pool.request({
      method: 'POST',
      path,
      headers: { ...extraHeaders, 'content-type': 'application/json', accept: ACCEPT },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: CLIENT_VERSION, capabilities: {}, clientInfo: { name: 'toolgate-bench', version: '1' } },
      }),
    });
    const text = await init.body.text();
    if (init.statusCode !== 200) throw new CallError(`initialize answered HTTP ${init.statusCode}: ${text.slice(0, 200)}`);
    const result = resultOf(text, String(init.headers['content-type'] ?? ''), 1);
    const sid = init.headers['mcp-session-id'];
    const session = new McpHttpSession(pool, path, typeof sid === 'string' ? sid : undefined, String(result.protocolVersion ?? CLIENT_VERSION), extraHeaders);
    const ack = await pool.request({ method: 'POST', path, headers: session.callHeaders, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' });
    await ack.body.dump();
    if (ack.statusCode >= 300) throw new CallError(`notifications/initialized answered HTTP ${ack.statusCode}`);
    return session;
  }

  /** One tools/call; resolves when the answer arrived and is a result, throws CallError otherwise. */
  async callTool(name: string): Promise<void> {
    const id = this.nextId++;
    let tail = this.bodyTails.get(name);
    if (tail === undefined) {
      tail = `,"method":"tools/call","params":{"name":${JSON.stringify(name)},"arguments":{"message":"hello"}}}`;
      this.bodyTails.set(name, tail);
    }
    const res = await this.pool.request({ method: 'POST', path: this.path, headers: this.callHeaders, body: `{"jsonrpc":"2.0","id":${id}${tail}` });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new CallError(`tools/call answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    const result = resultOf(text, String(res.headers['content-type'] ?? ''), id);
    if (result.isError === true) throw new CallError(`tools/call ${name} returned isError: ${text.slice(0, 200)}`);
  }

  /** tools/list; returns how many tools were listed. */
  async listTools(): Promise<number> {
    const id = this.nextId++;
    const res = await this.pool.request({ method: 'POST', path: this.path, headers: this.callHeaders, body: `{"jsonrpc":"2.0","id":${id},"method":"tools/list"}` });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new CallError(`tools/list answered HTTP ${res.statusCode}`);
    const tools = resultOf(text, String(res.headers['content-type'] ?? ''), id).tools;
    return Array.isArray(tools) ? tools.length : 0;
  }

  /** Ends the session (DELETE); failures are ignored — the server's idle expiry catches them. */
  async close(): Promise<void> {
    if (this.sessionId === undefined) return;
    try {
      const res = await this.pool.request({ method: 'DELETE', path: this.path, headers: this.callHeaders });
      await res.body.dump();
    } catch {
      // nothing to do
    }
  }
}

/** The result of the response with `id`, from a JSON body or an SSE stream. */
function resultOf(text: string, contentType: string, id: number): Record<string, unknown> {
  const candidates = contentType.startsWith('text/event-stream') ? sseData(text) : [text];
  for (const data of candidates) {
    let message: { id?: unknown; result?: Record<string, unknown>; error?: { message?: string } };
    try {
      message = JSON.parse(data) as typeof message;
    } catch {
      continue;
    }
    if (message.id !== id) continue;
    if (message.error) throw new CallError(`JSON-RPC error: ${message.error.message ?? JSON.stringify(message.error)}`);
    if (message.result) return message.result;
  }
  throw new CallError(`no response with id ${id} in: ${text.slice(0, 200)}`);
}

function sseData(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) if (line.startsWith('data:')) out.push(line.slice(5).trim());
  return out;
}

/** Waits until an MCP endpoint answers initialize with 200 (for servers that print nothing useful when ready). */
export async function untilAnswering(url: string, timeoutMs: number, why: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ACCEPT },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: CLIENT_VERSION, capabilities: {}, clientInfo: { name: 'toolgate-bench-probe', version: '1' } },
        }),
      });
      const text = await res.body.text();
      if (res.statusCode === 200) {
        const sid = res.headers['mcp-session-id'];
        if (typeof sid === 'string') {
          const bye = await request(url, { method: 'DELETE', headers: { 'mcp-session-id': sid, accept: ACCEPT } }).catch(() => undefined);
          await bye?.body.dump();
        }
        return;
      }
      last = `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer initialize within ${timeoutMs} ms (${last}); ${why()}`);
}
