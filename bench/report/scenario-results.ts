import type { Accumulated } from '../e2e/rounds.js';
import type { PathKind } from '../e2e/scenarios.js';
import { percentiles, round3 } from '../load/latency.js';

/** One scenario at one concurrency, as written to results JSON and the README table. */
export interface ScenarioResult {
  name: string;
  description: string;
  kind: PathKind;
  upstream: string;
  concurrency: number;
  /** Median over rounds of calls per second. */
  throughput_rps: number;
  round_rps: number[];
  /** (max − min) / median of round_rps: how much the rounds disagreed. */
  rps_spread: number;
  /** Per round, cores used by processes outside the harness (the machine is shared). */
  round_foreign_cores: Array<number | null>;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
  /** Peak RSS of the process in the middle (toolgate, the peer, the floor proxy); null for direct. */
  rss_mb: number | null;
  rss_of: string | null;
  /** CPU (user + system) of that process per call. */
  cpu_ms_per_call: number | null;
  /** CPU of the load driver per call: what the client side of the machine spent. */
  driver_cpu_ms_per_call: number;
  calls: number;
  errors: number;
  first_error?: string;
  direct_scenario: string;
  /** Throughput as a multiple of the direct scenario's at the same concurrency: the median over rounds of the per-round ratio (rounds are interleaved, so each ratio compares neighbours in time). */
  x_direct: number | null;
  added_p50_ms: number | null;
  added_p90_ms: number | null;
  added_p99_ms: number | null;
  peer_scenario: string | null;
  /** Throughput as a multiple of the peer's at the same concurrency, as x_direct. */
  x_peer: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Median of round-by-round ratios. */
function pairedRatio(a: number[], b: number[]): number {
  return round2(median(a.map((x, i) => x / b[i]!)));
}

/** Turns accumulated measurements into results, with each compared to its direct and peer scenarios. */
export function scenarioResults(cells: Accumulated[]): ScenarioResult[] {
  const base = cells.map((a) => {
    const p = percentiles(a.histogram);
    return {
      name: a.scenario.name,
      description: a.scenario.description,
      kind: a.scenario.kind,
      upstream: a.scenario.upstream,
      concurrency: a.concurrency,
      throughput_rps: round1(median(a.roundRps)),
      round_rps: a.roundRps.map(round1),
      rps_spread: round2((Math.max(...a.roundRps) - Math.min(...a.roundRps)) / median(a.roundRps)),
      round_foreign_cores: a.roundForeignCores.map((x) => (x === null ? null : round2(x))),
      ...p,
      rss_mb: a.peakRssMb === undefined ? null : round1(a.peakRssMb),
      rss_of: a.measured ?? null,
      cpu_ms_per_call: a.cpuMs === undefined || a.calls === 0 ? null : round3(a.cpuMs / a.calls),
      driver_cpu_ms_per_call: a.calls === 0 ? 0 : round3(a.driverCpuMs / a.calls),
      calls: a.calls,
      errors: a.errors,
      ...(a.firstError ? { first_error: a.firstError } : {}),
      direct_scenario: a.scenario.direct,
      peer_scenario: a.scenario.peer ?? null,
    };
  });
  const find = (name: string, c: number): (typeof base)[number] | undefined => base.find((b) => b.name === name && b.concurrency === c);
  return base.map((r) => {
    const direct = find(r.direct_scenario, r.concurrency);
    const peer = r.peer_scenario ? find(r.peer_scenario, r.concurrency) : undefined;
    const isDirect = r.name === r.direct_scenario;
    return {
      ...r,
      x_direct: direct && !isDirect ? pairedRatio(r.round_rps, direct.round_rps) : null,
      added_p50_ms: direct && !isDirect ? round3(r.p50_ms - direct.p50_ms) : null,
      added_p90_ms: direct && !isDirect ? round3(r.p90_ms - direct.p90_ms) : null,
      added_p99_ms: direct && !isDirect ? round3(r.p99_ms - direct.p99_ms) : null,
      x_peer: peer ? pairedRatio(r.round_rps, peer.round_rps) : null,
    };
  });
}
