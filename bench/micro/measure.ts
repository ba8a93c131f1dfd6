/**
 * A small timer for micro-benchmarks: runs the function in batches sized to about a
 * millisecond, for a fixed time, and reports the median and p99 of per-operation time across
 * batches (a batch median is stable against GC pauses; p99 shows them).
 */
export interface MicroFigure {
  ns_per_op: number;
  p99_ns_per_op: number;
  ops_per_s: number;
  batches: number;
  batch_size: number;
}

let sink: unknown;

/** Keeps a result alive so the optimiser cannot drop the work that produced it. */
export function consume(value: unknown): void {
  sink = value;
}

export function lastConsumed(): unknown {
  return sink;
}

function summarise(perOp: number[], batch: number): MicroFigure {
  perOp.sort((a, b) => a - b);
  const median = perOp[perOp.length >> 1]!;
  const p99 = perOp[Math.min(perOp.length - 1, Math.floor(perOp.length * 0.99))]!;
  return { ns_per_op: Math.round(median), p99_ns_per_op: Math.round(p99), ops_per_s: Math.round(1e9 / median), batches: perOp.length, batch_size: batch };
}

export function measureSync(fn: () => unknown, ms: number): MicroFigure {
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) consume(fn());
    if (Number(process.hrtime.bigint() - t0) > 1e6 || batch >= 1 << 20) break;
    batch *= 2;
  }
  const perOp: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) consume(fn());
    perOp.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  return summarise(perOp, batch);
}

export async function measureAsync(fn: () => Promise<unknown>, ms: number): Promise<MicroFigure> {
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) consume(await fn());
    if (Number(process.hrtime.bigint() - t0) > 1e6 || batch >= 1 << 20) break;
    batch *= 2;
  }
  const perOp: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) consume(await fn());
    perOp.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  return summarise(perOp, batch);
}
