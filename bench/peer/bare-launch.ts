import { benchModule } from '../processes/bench-module.js';
import { type BenchChild, startChild, waitForLine } from '../processes/child.js';

/** Starts the bare pass-through (the floor) in front of `upstreamUrl`. */
export async function startBarePassThrough(upstreamUrl: string): Promise<{ child: BenchChild; url: string; stop(): Promise<void> }> {
  const { command, args } = benchModule('peer/bare-pass-through', [upstreamUrl]);
  const child = startChild('bare pass-through', command, args);
  const [, port] = await waitForLine(child, /listening (\d+)/, 15_000);
  return { child, url: `http://127.0.0.1:${port}/mcp`, stop: () => child.stop() };
}
