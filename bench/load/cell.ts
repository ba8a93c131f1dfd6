import type { RecordableHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';
import { ForeignLoadMeter } from '../processes/foreign-load.js';
import { ProcessMeter } from '../processes/proc-stats.js';
import { driveLoad } from './driver.js';
import { McpHttpSession } from './mcp-client.js';

/** What one measurement points the driver at. */
export interface LoadTarget {
  url: string;
  /** Tool names as this target exposes them. */
  tools: string[];
  /** Extra request headers (a bearer token once identity exists). */
  headers?: Record<string, string>;
  /** Client TLS (CA to trust, client certificate and key, PEM) when the target is mutual TLS. */
  tls?: { ca: string; cert: string; key: string };
  /** The process in the middle whose RSS and CPU are reported (gateway or peer). */
  measuredPid?: number;
}

export interface CellResult {
  calls: number;
  errors: number;
  elapsedMs: number;
  throughputRps: number;
  histogram: RecordableHistogram;
  peakRssMb?: number;
  cpuMs?: number;
  /** CPU the harness itself (the driver) used over the measurement. */
  driverCpuMs: number;
  /** Cores kept busy by processes outside the harness during the measurement. */
  foreignCores?: number;
  firstError?: string;
}

/**
 * One measurement: `concurrency` sessions opened (initialize once each), a warm-up, then a
 * measured closed-loop run; sessions are ended with DELETE afterwards so none pile up.
 */
export async function measureCell(target: LoadTarget, concurrency: number, timing: { warmupMs: number; durationMs: number }): Promise<CellResult> {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: concurrency, keepAliveTimeout: 30_000, ...(target.tls ? { connect: { ...target.tls } } : {}) });
  try {
    const sessions = await Promise.all(Array.from({ length: concurrency }, () => McpHttpSession.open(pool, url, target.headers)));
    if (timing.warmupMs > 0) await driveLoad(sessions, { durationMs: timing.warmupMs, tools: target.tools, record: false });
    const meter = target.measuredPid === undefined ? undefined : new ProcessMeter(target.measuredPid);
    const driverCpu = process.cpuUsage();
    const foreign = new ForeignLoadMeter();
    const load = await driveLoad(sessions, { durationMs: timing.durationMs, tools: target.tools, record: true });
    const driverUsed = process.cpuUsage(driverCpu);
    const foreignCores = foreign.stop();
    const usage = meter?.stop();
    await Promise.all(sessions.map((s) => s.close()));
    return {
      calls: load.calls,
      errors: load.errors,
      elapsedMs: load.elapsedMs,
      throughputRps: (load.calls / load.elapsedMs) * 1000,
      histogram: load.histogram,
      peakRssMb: usage?.peakRssMb,
      cpuMs: usage?.cpuMs,
      driverCpuMs: (driverUsed.user + driverUsed.system) / 1000,
      foreignCores,
      firstError: load.firstError,
    };
  } finally {
    await pool.close();
  }
}
