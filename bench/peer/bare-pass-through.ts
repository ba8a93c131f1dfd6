/**
 * The floor: the least an HTTP-to-HTTP hop in Node can cost. A node:http server that forwards
 * each request's body and MCP headers to one upstream with a pooled undici request and copies
 * the answer back — no parsing, no sessions, no checks. Not a product; a reference line, so the
 * report can say how much of toolgate's cost any Node proxy pays.
 *
 * Run: node bare-pass-through.js <upstream-url>  → prints `listening <port>`.
 */
import { createServer } from 'node:http';
import { Agent, request } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-pass-through <upstream-url>');
const agent = new Agent({ keepAliveTimeout: 30_000 });
const FORWARDED = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version'];

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    request(upstream, { method: req.method as 'POST', headers, body: chunks.length ? Buffer.concat(chunks) : undefined, dispatcher: agent })
      .then(async (up) => {
        const body = Buffer.from(await up.body.arrayBuffer());
        const out: Record<string, string | number> = { 'content-length': body.length };
        for (const name of ['content-type', 'mcp-session-id']) {
          const v = up.headers[name];
          if (typeof v === 'string') out[name] = v;
        }
        res.writeHead(up.statusCode, out).end(body);
      })
      .catch((err: unknown) => res.writeHead(502).end(String(err)));
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
