import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Call latencies in nanoseconds (HDR histogram, 3 significant figures). */
export function newLatencyHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: 120_000_000_000, figures: 3 });
}

export interface Percentiles {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
}

export function percentiles(h: RecordableHistogram): Percentiles {
  const ms = (ns: number): number => round3(ns / 1e6);
  if (h.count === 0) return { p50_ms: NaN, p90_ms: NaN, p99_ms: NaN, mean_ms: NaN, max_ms: NaN };
  return { p50_ms: ms(h.percentile(50)), p90_ms: ms(h.percentile(90)), p99_ms: ms(h.percentile(99)), mean_ms: ms(h.mean), max_ms: ms(h.max) };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
