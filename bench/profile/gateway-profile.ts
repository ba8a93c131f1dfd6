import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningScenario, Scenario, SharedUpstreams } from '../e2e/scenarios.js';
import { measureCell } from '../load/cell.js';
import { percentiles } from '../load/latency.js';
import { type ProfileSummary, summariseProfile } from './self-time.js';

export interface GatewayProfile {
  scenario: string;
  concurrency: number;
  duration_ms: number;
  calls: number;
  throughput_rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu_ms_per_call: number | null;
  /** Where the .cpuprofile was written (not committed; open it in Chrome DevTools or speedscope). */
  file: string;
  summary: ProfileSummary;
}

/**
 * A CPU profile of toolgate under load: a fresh gateway for the scenario, warmed up, then the V8
 * sampling profiler on for exactly the measured window.
 */
export async function profileGateway(
  scenario: Scenario,
  shared: SharedUpstreams,
  options: { concurrency: number; durationMs: number; warmupMs: number; dir: string; repoRoot: string; stamp: string },
): Promise<GatewayProfile> {
  const run: RunningScenario = await scenario.start(shared);
  try {
    const gateway = run.gateway;
    if (!gateway) throw new Error(`scenario ${scenario.name} does not run toolgate`);
    await measureCell(run.target, options.concurrency, { warmupMs: 0, durationMs: options.warmupMs });
    mkdirSync(options.dir, { recursive: true });
    const file = join(options.dir, `${options.stamp}-${scenario.name}-c${options.concurrency}.cpuprofile`);
    await gateway.startProfile();
    const cell = await measureCell(run.target, options.concurrency, { warmupMs: 0, durationMs: options.durationMs });
    await gateway.stopProfile(file);
    const p = percentiles(cell.histogram);
    return {
      scenario: scenario.name,
      concurrency: options.concurrency,
      duration_ms: options.durationMs,
      calls: cell.calls,
      throughput_rps: Math.round(cell.throughputRps),
      p50_ms: p.p50_ms,
      p99_ms: p.p99_ms,
      cpu_ms_per_call: cell.cpuMs === undefined || cell.calls === 0 ? null : Math.round((cell.cpuMs / cell.calls) * 1000) / 1000,
      file: file.startsWith(options.repoRoot) ? file.slice(options.repoRoot.length + 1) : file,
      summary: summariseProfile(file, options.repoRoot, 15),
    };
  } finally {
    await run.stop();
  }
}
