import { createRequire } from 'node:module';
import { freePort } from '../../test/support/free-port.js';
import { type BenchChild, startChild, waitForLine } from '../processes/child.js';

const require = createRequire(import.meta.url);

/** `@modelcontextprotocol/server-everything` over Streamable HTTP: a realistic SDK v1 upstream. */
export async function startEverythingHttp(): Promise<{ child: BenchChild; url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const entry = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
  const child = startChild('server-everything', process.execPath, [entry, 'streamableHttp'], { env: { ...process.env, PORT: String(port) } });
  child.process.stdout!.resume();
  await waitForLine(child, /listening on port/i, 20_000, 'stderr');
  return { child, url: `http://127.0.0.1:${port}/mcp`, stop: () => child.stop() };
}
