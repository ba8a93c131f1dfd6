import type { RecordableHistogram } from 'node:perf_hooks';
import { measureCell } from '../load/cell.js';
import { newLatencyHistogram } from '../load/latency.js';
import type { BenchPlan } from '../plan.js';
import type { QuietGate } from '../processes/foreign-load.js';
import type { RunningScenario, Scenario } from './scenarios.js';

/** Everything measured for one scenario at one concurrency, over all rounds. */
export interface Accumulated {
  scenario: Scenario;
  measured?: string;
  concurrency: number;
  histogram: RecordableHistogram;
  roundRps: number[];
  /** Per round: cores used by processes outside the harness during the measurement. */
  roundForeignCores: Array<number | null>;
  calls: number;
  errors: number;
  firstError?: string;
  peakRssMb?: number;
  cpuMs?: number;
  driverCpuMs: number;
}

/**
 * Measures every scenario at every concurrency, round after round. Within a round all scenarios
 * at one concurrency run back to back, and the order rotates each round, so drift of the
 * machine (thermal, noisy neighbours) falls on all of them alike rather than on whichever ran last.
 */
export async function runRounds(
  running: Array<{ scenario: Scenario; run: RunningScenario }>,
  plan: BenchPlan,
  gate: QuietGate,
  log: (line: string) => void,
): Promise<Accumulated[]> {
  const cells = new Map<string, Accumulated>();
  for (const { scenario, run } of running) {
    for (const c of plan.concurrencies) {
      cells.set(`${scenario.name}@${c}`, {
        scenario,
        measured: run.measured,
        concurrency: c,
        histogram: newLatencyHistogram(),
        roundRps: [],
        roundForeignCores: [],
        calls: 0,
        errors: 0,
        driverCpuMs: 0,
      });
    }
  }
  for (let round = 0; round < plan.rounds; round++) {
    for (const c of plan.concurrencies) {
      for (const { scenario, run } of rotate(running, round)) {
        await gate.wait();
        const cell = await measureCell(run.target, c, { warmupMs: plan.warmupMs, durationMs: plan.durationMs });
        const acc = cells.get(`${scenario.name}@${c}`)!;
        acc.histogram.add(cell.histogram);
        acc.roundRps.push(cell.throughputRps);
        acc.roundForeignCores.push(cell.foreignCores ?? null);
        acc.calls += cell.calls;
        acc.errors += cell.errors;
        acc.firstError ??= cell.firstError;
        if (cell.peakRssMb !== undefined) acc.peakRssMb = Math.max(acc.peakRssMb ?? 0, cell.peakRssMb);
        if (cell.cpuMs !== undefined) acc.cpuMs = (acc.cpuMs ?? 0) + cell.cpuMs;
        acc.driverCpuMs += cell.driverCpuMs;
        log(
          `round ${round + 1}/${plan.rounds} c=${c} ${scenario.name}: ${Math.round(cell.throughputRps)} calls/s${cell.foreignCores !== undefined && cell.foreignCores >= 0.1 ? ` (other processes: ${cell.foreignCores.toFixed(2)} cores)` : ''}${cell.errors ? `, ${cell.errors} errors (${cell.firstError})` : ''}`,
        );
      }
    }
  }
  return [...cells.values()];
}

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
