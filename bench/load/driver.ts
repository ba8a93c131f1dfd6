import type { RecordableHistogram } from 'node:perf_hooks';
import { newLatencyHistogram } from './latency.js';
import type { McpHttpSession } from './mcp-client.js';

export interface LoadOptions {
  durationMs: number;
  /** Tool names to call; each client walks the list from its own starting point. */
  tools: string[];
  /** Record latencies (false for warm-up). */
  record: boolean;
}

export interface LoadOutcome {
  calls: number;
  errors: number;
  elapsedMs: number;
  histogram: RecordableHistogram;
  firstError?: string;
}

/**
 * Closed-loop load: every session sends its next tools/call as soon as the previous one is
 * answered, until the time is up. Concurrency is the number of sessions. Calls in flight at the
 * deadline are finished and counted; throughput divides by the time until the last one ended.
 */
export async function driveLoad(sessions: McpHttpSession[], options: LoadOptions): Promise<LoadOutcome> {
  const histogram = newLatencyHistogram();
  const started = performance.now();
  const deadline = started + options.durationMs;
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;
  const tools = options.tools;
  await Promise.all(
    sessions.map(async (session, client) => {
      let i = client;
      while (performance.now() < deadline) {
        const tool = tools[i++ % tools.length]!;
        const t0 = process.hrtime.bigint();
        try {
          await session.callTool(tool);
          if (options.record) histogram.record(Number(process.hrtime.bigint() - t0) || 1);
          calls++;
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
          // A failing target answers instantly; do not spin the CPU the others need.
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    }),
  );
  return { calls, errors, elapsedMs: performance.now() - started, histogram, firstError };
}
