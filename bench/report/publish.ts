import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentileChart } from './percentile-chart.js';
import { renderReadme } from './readme.js';
import type { BenchResults } from './run-results.js';

export const CHART_FILE = 'percentiles.svg';

/** Rewrites bench/README.md and bench/percentiles.svg from one results file. */
export function publish(benchDir: string, resultsFile: string, results: BenchResults): void {
  const title = `tools/call latency, ${results.mode} run ${results.started_at} (${results.machine.cpus} cores, Node ${results.machine.node})`;
  writeFileSync(join(benchDir, CHART_FILE), percentileChart(results.scenarios, title));
  writeFileSync(join(benchDir, 'README.md'), renderReadme(results, resultsFile, CHART_FILE));
}
