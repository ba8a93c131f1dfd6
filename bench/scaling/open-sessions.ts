import { Pool } from 'undici';
import { gatewayYaml } from '../gateway/config-yaml.js';
import { type GatewayProcess, launchGateway } from '../gateway/launch.js';
import { driveLoad } from '../load/driver.js';
import { percentiles } from '../load/latency.js';
import { McpHttpSession } from '../load/mcp-client.js';
import type { BenchPlan } from '../plan.js';
import type { QuietGate } from '../processes/foreign-load.js';
import { ProcessMeter, rssMb } from '../processes/proc-stats.js';
import type { FastHttpFixture } from '../upstreams/fast-fixture.js';

/** Gateway memory and call throughput with N sessions open at once. */
export interface SessionScalingRow {
  sessions: number;
  /** Sessions the gateway reports holding once all were opened. */
  sessions_held: number;
  rss_before_mb: number | null;
  /** RSS with all sessions open, before any call. */
  rss_open_mb: number | null;
  /** Live heap (after a full GC) before opening and with all sessions open. */
  live_heap_before_mb: number;
  live_heap_open_mb: number;
  /** Live heap per open session. */
  kb_per_session: number;
  /** Calls on `concurrency` of the open sessions, spread across them. */
  concurrency: number;
  throughput_rps: number;
  p50_ms: number;
  p99_ms: number;
  /** Peak RSS during that short call phase. */
  rss_mb: number | null;
  errors: number;
  /** For the session count the RSS target names: calls kept up long enough for memory to settle. */
  sustained?: SustainedCalls;
}

export interface SustainedCalls {
  duration_s: number;
  peak_rss_mb: number | null;
  /** Every few seconds: RSS and the call rate over the preceding slice. */
  timeline: Array<{ t_s: number; rss_mb: number | null; calls_per_s: number }>;
  /** Live heap after a full GC right after the calls stopped. */
  live_heap_after_mb: number;
  /** (live_heap_after − live_heap_open) / calls made in the last 60 s of the run. */
  live_bytes_per_recent_call: number;
  errors: number;
}

const OPEN_PARALLEL = 16;
const SLICE_MS = 5000;
const RECENT_MS = 60_000;
const round1 = (x: number): number => Math.round(x * 10) / 10;

export async function sessionScaling(fixture: FastHttpFixture, plan: BenchPlan, gate: QuietGate, log: (line: string) => void): Promise<SessionScalingRow[]> {
  const rows: SessionScalingRow[] = [];
  for (const count of plan.scaling.sessions) {
    // --expose-gc only so stats() can collect before reading live heap; nothing calls gc during load.
    const gateway = await launchGateway({ yaml: gatewayYaml([{ id: 'fast', url: fixture.url(10) }]), stages: [] }, { exposeGc: true });
    const url = new URL(gateway.url);
    const pool = new Pool(url.origin, { connections: OPEN_PARALLEL, keepAliveTimeout: 30_000 });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const heapBefore = (await gateway.stats(true)).heapUsedMb;
      const before = rssMb(gateway.pid);
      const sessions: McpHttpSession[] = [];
      while (sessions.length < count) {
        const batch = Math.min(OPEN_PARALLEL, count - sessions.length);
        sessions.push(...(await Promise.all(Array.from({ length: batch }, () => McpHttpSession.open(pool, url)))));
      }
      await new Promise((r) => setTimeout(r, 1000));
      const open = rssMb(gateway.pid);
      const stats = await gateway.stats(true);
      const concurrency = Math.min(plan.scaling.concurrency, count);
      const step = Math.floor(count / concurrency);
      const active = Array.from({ length: concurrency }, (_, i) => sessions[i * step]!);
      await gate.wait();
      await driveLoad(active, { durationMs: plan.scaling.warmupMs, tools: ['fast__echo'], record: false });
      const meter = new ProcessMeter(gateway.pid);
      const load = await driveLoad(active, { durationMs: plan.scaling.durationMs, tools: ['fast__echo'], record: true });
      const usage = meter.stop();
      const p = percentiles(load.histogram);
      const row: SessionScalingRow = {
        sessions: count,
        sessions_held: stats.sessions,
        rss_before_mb: before === undefined ? null : round1(before),
        rss_open_mb: open === undefined ? null : round1(open),
        live_heap_before_mb: round1(heapBefore),
        live_heap_open_mb: round1(stats.heapUsedMb),
        kb_per_session: round1(((stats.heapUsedMb - heapBefore) * 1024) / count),
        concurrency,
        throughput_rps: round1((load.calls / load.elapsedMs) * 1000),
        p50_ms: p.p50_ms,
        p99_ms: p.p99_ms,
        rss_mb: usage.peakRssMb === undefined ? null : round1(usage.peakRssMb),
        errors: load.errors,
      };
      log(`scaling: ${count} open sessions: RSS ${open?.toFixed(1)} MB open, ${usage.peakRssMb?.toFixed(1)} MB under calls, ${Math.round(row.throughput_rps)} calls/s`);
      if (count === plan.scaling.sustainSessions) {
        row.sustained = await sustain(gateway, active, plan.scaling.sustainMs, stats.heapUsedMb);
        log(`scaling: ${count} open sessions, ${plan.scaling.sustainMs / 1000} s of calls: peak RSS ${row.sustained.peak_rss_mb} MB`);
      }
      rows.push(row);
      await Promise.all(sessions.map((s) => s.close()));
    } finally {
      await pool.close();
      await gateway.stop();
    }
  }
  return rows;
}

/**
 * Calls for `durationMs` in slices, reading RSS after each, then the live heap after a full GC:
 * whatever the gateway keeps per call (rather than per session) shows up here and not in a
 * short run.
 */
async function sustain(gateway: GatewayProcess, active: McpHttpSession[], durationMs: number, liveHeapOpenMb: number): Promise<SustainedCalls> {
  const meter = new ProcessMeter(gateway.pid);
  const timeline: SustainedCalls['timeline'] = [];
  const slices: Array<{ endMs: number; calls: number }> = [];
  const started = performance.now();
  let errors = 0;
  while (performance.now() - started < durationMs) {
    const slice = await driveLoad(active, { durationMs: Math.min(SLICE_MS, durationMs - (performance.now() - started)), tools: ['fast__echo'], record: false });
    errors += slice.errors;
    const t = performance.now() - started;
    slices.push({ endMs: t, calls: slice.calls });
    const rss = rssMb(gateway.pid);
    timeline.push({ t_s: round1(t / 1000), rss_mb: rss === undefined ? null : round1(rss), calls_per_s: round1((slice.calls / slice.elapsedMs) * 1000) });
  }
  const usage = meter.stop();
  const total = performance.now() - started;
  const liveAfter = (await gateway.stats(true)).heapUsedMb;
  const recentCalls = slices.filter((s) => s.endMs > total - RECENT_MS).reduce((sum, s) => sum + s.calls, 0);
  return {
    duration_s: round1(total / 1000),
    peak_rss_mb: usage.peakRssMb === undefined ? null : round1(usage.peakRssMb),
    timeline,
    live_heap_after_mb: round1(liveAfter),
    live_bytes_per_recent_call: recentCalls === 0 ? 0 : Math.round(((liveAfter - liveHeapOpenMb) * 2 ** 20) / recentCalls),
    errors,
  };
}
