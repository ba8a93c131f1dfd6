import { Pool } from 'undici';
import { gatewayYaml } from '../gateway/config-yaml.js';
import { launchGateway } from '../gateway/launch.js';
import { measureCell } from '../load/cell.js';
import { percentiles, round3 } from '../load/latency.js';
import { McpHttpSession } from '../load/mcp-client.js';
import type { BenchPlan } from '../plan.js';
import type { QuietGate } from '../processes/foreign-load.js';
import { rssMb } from '../processes/proc-stats.js';
import type { FastHttpFixture } from '../upstreams/fast-fixture.js';

/** How the gateway grows with the number of upstreams and the tools each one lists. */
export interface CatalogScalingRow {
  upstreams: number;
  tools_per_upstream: number;
  tools_total: number;
  /** From process start to listening with every upstream listed. */
  start_ms: number;
  idle_rss_mb: number | null;
  /** tools/list of the whole merged catalog, median of 5, at no load. */
  tools_list_ms: number;
  tools_listed: number;
  concurrency: number;
  throughput_rps: number;
  p50_ms: number;
  p99_ms: number;
  rss_mb: number | null;
  errors: number;
}

/** Calls are spread over every upstream, and over first and last tools of each, so routing sees the whole catalog. */
function toolsToCall(upstreams: number, tools: number): string[] {
  const names: string[] = [];
  for (let u = 0; u < upstreams; u++) names.push(`u${u}__echo`, `u${u}__tool_${tools - 1}`);
  return names;
}

export async function catalogScaling(fixture: FastHttpFixture, plan: BenchPlan, gate: QuietGate, log: (line: string) => void): Promise<CatalogScalingRow[]> {
  const rows: CatalogScalingRow[] = [];
  for (const upstreams of plan.scaling.upstreams) {
    for (const tools of plan.scaling.toolsPerUpstream) {
      const yaml = gatewayYaml(Array.from({ length: upstreams }, (_, u) => ({ id: `u${u}`, url: fixture.url(tools) })));
      const started = performance.now();
      const gateway = await launchGateway({ yaml, stages: [] });
      const startMs = performance.now() - started;
      try {
        await new Promise((r) => setTimeout(r, 500));
        const idleRss = rssMb(gateway.pid);
        await gate.wait();
        const listing = await timeToolsList(gateway.url);
        const cell = await measureCell({ url: gateway.url, tools: toolsToCall(upstreams, tools), measuredPid: gateway.pid }, plan.scaling.concurrency, plan.scaling);
        const p = percentiles(cell.histogram);
        rows.push({
          upstreams,
          tools_per_upstream: tools,
          tools_total: upstreams * tools,
          start_ms: Math.round(startMs),
          idle_rss_mb: idleRss === undefined ? null : Math.round(idleRss * 10) / 10,
          tools_list_ms: listing.medianMs,
          tools_listed: listing.count,
          concurrency: plan.scaling.concurrency,
          throughput_rps: Math.round(cell.throughputRps * 10) / 10,
          p50_ms: p.p50_ms,
          p99_ms: p.p99_ms,
          rss_mb: cell.peakRssMb === undefined ? null : Math.round(cell.peakRssMb * 10) / 10,
          errors: cell.errors,
        });
        log(`scaling: ${upstreams} upstreams × ${tools} tools: ${Math.round(cell.throughputRps)} calls/s, RSS ${cell.peakRssMb?.toFixed(1)} MB, tools/list ${listing.medianMs} ms`);
      } finally {
        await gateway.stop();
      }
    }
  }
  return rows;
}

async function timeToolsList(url: string): Promise<{ medianMs: number; count: number }> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 1 });
  try {
    const session = await McpHttpSession.open(pool, target);
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      count = await session.listTools();
      times.push(performance.now() - t0);
    }
    await session.close();
    times.sort((a, b) => a - b);
    return { medianMs: round3(times[2]!), count };
  } finally {
    await pool.close();
  }
}
