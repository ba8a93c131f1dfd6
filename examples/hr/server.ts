/**
 * The example HR upstream: SDK v1 McpServer over stdio (2025 protocol eras only).
 *
 * Run alone:  node dist/examples/hr/server.js   — then speak MCP JSON-RPC on stdin/stdout.
 * stdout carries protocol messages only; everything else goes to stderr.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallVerifier, verifyTransportMessages } from '@toolgate/verify';
import { EmployeeDirectory } from './directory.js';
import { registerHrTools } from './tools.js';

const directory = new EmployeeDirectory();
const server = new McpServer(
  { name: 'toolgate-example-hr', version: '1.0.0' },
  { capabilities: { tools: {} }, instructions: 'Example HR system for the toolgate demo. Every tool takes the tenant ("acme", "globex").' },
);
registerHrTools(server, directory);

const transport = new StdioServerTransport();
transport.onerror = (error) => process.stderr.write(`hr: transport error: ${error.message}\n`);
process.stdin.on('end', () => void server.close().finally(() => process.exit(0)));
await server.connect(transport);
// Behind toolgate: verify its per-call token on every call (it travels in _meta on stdio).
// TOOLGATE_JWKS_URL switches this on; the audience is what toolgate's config names for this
// upstream (for a stdio upstream its default is urn:toolgate:upstream:<id>). Used token ids are
// kept in TOOLGATE_REPLAY_FILE (default .toolgate/hr-used-jti under the working directory) so a
// restart does not forget them; TOOLGATE_REPLAY=memory keeps them in memory only.
const jwksUrl = process.env.TOOLGATE_JWKS_URL;
if (jwksUrl) {
  const verifier = new CallVerifier({
    jwksUrl,
    audience: process.env.TOOLGATE_AUDIENCE || 'urn:toolgate:upstream:hr',
    ...(process.env.TOOLGATE_REPLAY === 'memory' ? { replay: 'memory' as const } : { replayFile: process.env.TOOLGATE_REPLAY_FILE || '.toolgate/hr-used-jti' }),
  });
  verifyTransportMessages(verifier, transport, (chain) => {
    process.stderr.write(`hr: ${chain.tool} for ${chain.user ?? '(no user)'} by ${chain.agent} via ${chain.gateway.instance ?? chain.gateway.issuer}\n`);
  });
}
process.stderr.write(`hr: example HR MCP server ready on stdio (tenants ${directory.tenants().join(', ')})\n`);
