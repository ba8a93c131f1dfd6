import { benchModule } from '../processes/bench-module.js';
import { type BenchChild, startChild, waitForLine } from '../processes/child.js';

/** The fast HTTP fixture as a running process; one process serves any number of upstream URLs. */
export interface FastHttpFixture {
  child: BenchChild;
  /** The endpoint of one upstream listing `tools` tools (default 10). */
  url(tools?: number): string;
  stop(): Promise<void>;
}

export async function startFastHttpFixture(): Promise<FastHttpFixture> {
  const { command, args } = benchModule('fixture/http-server');
  const child = startChild('fast HTTP fixture', command, args);
  const [, port] = await waitForLine(child, /listening (\d+)/, 15_000);
  return {
    child,
    url: (tools) => `http://127.0.0.1:${port}/mcp${tools === undefined ? '' : `?tools=${tools}`}`,
    stop: () => child.stop(),
  };
}

/** The command that runs the fast fixture over stdio (for toolgate's and the peer's config). */
export function fastStdioCommand(tools = 10): { command: string; args: string[] } {
  return benchModule('fixture/stdio-server', [String(tools)]);
}
