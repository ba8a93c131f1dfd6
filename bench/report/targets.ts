import type { SessionScalingRow } from '../scaling/open-sessions.js';
import type { ScenarioResult } from './scenario-results.js';

/** One of the benchmark targets, judged on one run. */
export interface TargetResult {
  target: string;
  scenario: string;
  concurrency: number | null;
  measured: number | null;
  limit: number;
  unit: string;
  met: boolean;
}

/** "Moderate load" in the targets: the middle of the 1 / 16 / 64 concurrencies. */
export const MODERATE_CONCURRENCY = 16;
export const RSS_LIMIT_MB = 150;
export const RSS_SESSIONS = 1000;

/**
 * The benchmark targets, for the full-pipeline scenarios (which are the pass-through ones while no
 * stage is built). Added latency is judged at moderate load and, for reference, with no
 * contention at all (c=1), where it is the gateway's own per-call time.
 */
export function evaluateTargets(results: ScenarioResult[], sessions: SessionScalingRow[], full: { http: string; stdio: string }, concurrencies: number[]): TargetResult[] {
  const out: TargetResult[] = [];
  const at = (name: string, c: number): ScenarioResult | undefined => results.find((r) => r.name === name && r.concurrency === c);
  for (const c of [1, MODERATE_CONCURRENCY].filter((x) => concurrencies.includes(x))) {
    const r = at(full.http, c);
    if (!r) continue;
    out.push({
      target: 'added latency p50 vs direct',
      scenario: r.name,
      concurrency: c,
      measured: r.added_p50_ms,
      limit: 1,
      unit: 'ms',
      met: r.added_p50_ms !== null && r.added_p50_ms <= 1,
    });
    out.push({
      target: 'added latency p99 vs direct',
      scenario: r.name,
      concurrency: c,
      measured: r.added_p99_ms,
      limit: 3,
      unit: 'ms',
      met: r.added_p99_ms !== null && r.added_p99_ms <= 3,
    });
  }
  for (const c of concurrencies) {
    const r = at(full.http, c);
    if (r)
      out.push({
        target: 'throughput ≥ 0.5 × direct',
        scenario: r.name,
        concurrency: c,
        measured: r.x_direct,
        limit: 0.5,
        unit: '× direct',
        met: r.x_direct !== null && r.x_direct >= 0.5,
      });
  }
  for (const c of concurrencies) {
    const r = at(full.stdio, c);
    if (r)
      out.push({
        target: 'stdio throughput ≥ peer proxy',
        scenario: r.name,
        concurrency: c,
        measured: r.x_peer,
        limit: 1,
        unit: '× peer',
        met: r.x_peer !== null && r.x_peer >= 1,
      });
  }
  const s = sessions.find((row) => row.sessions === RSS_SESSIONS);
  if (s) {
    const rss = (label: string, v: number | null | undefined, c: number | null): void =>
      void out.push({
        target: `gateway RSS with ${RSS_SESSIONS} open sessions, ${label}`,
        scenario: 'scaling: open sessions',
        concurrency: c,
        measured: v ?? null,
        limit: RSS_LIMIT_MB,
        unit: 'MB',
        met: v !== null && v !== undefined && v <= RSS_LIMIT_MB,
      });
    rss('idle', s.rss_open_mb, null);
    if (s.sustained) rss(`peak over ${Math.round(s.sustained.duration_s)} s of calls`, s.sustained.peak_rss_mb, s.concurrency);
    else rss('peak during calls', s.rss_mb, s.concurrency);
  }
  return out;
}
