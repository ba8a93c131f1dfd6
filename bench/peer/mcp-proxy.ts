import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from '../../test/support/free-port.js';
import { untilAnswering } from '../load/mcp-client.js';
import { type BenchChild, startChild } from '../processes/child.js';

const require = createRequire(import.meta.url);

/** The peer: `mcp-proxy` (npm, pinned in package.json) exposing a stdio server over Streamable HTTP. */
export interface PeerProxy {
  child: BenchChild;
  url: string;
  version: string;
  stop(): Promise<void>;
}

function mcpProxyPackage(): { bin: string; version: string } {
  // The package has no "exports", so its package.json resolves directly.
  const manifestPath = require.resolve('mcp-proxy/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string; bin: Record<string, string> };
  return { bin: join(dirname(manifestPath), manifest.bin['mcp-proxy']!), version: manifest.version };
}

/**
 * Starts mcp-proxy with its defaults (stateful sessions, event store on) except: loopback only,
 * the stream transport only (the old SSE endpoint is not what is compared).
 */
export async function startMcpProxy(upstream: { command: string; args: string[] }): Promise<PeerProxy> {
  const { bin, version } = mcpProxyPackage();
  const port = await freePort();
  const child = startChild('mcp-proxy', process.execPath, [bin, '--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--', upstream.command, ...upstream.args]);
  child.process.stdout!.resume();
  const url = `http://127.0.0.1:${port}/mcp`;
  await untilAnswering(url, 30_000, () => child.stderrTail());
  return { child, url, version, stop: () => child.stop() };
}
