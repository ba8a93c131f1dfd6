import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MicroResult } from '../micro/suite.js';
import type { BenchPlan } from '../plan.js';
import type { GatewayProfile } from '../profile/gateway-profile.js';
import type { CatalogScalingRow } from '../scaling/catalog-size.js';
import type { SessionScalingRow } from '../scaling/open-sessions.js';
import type { ScenarioResult } from './scenario-results.js';
import type { TargetResult } from './targets.js';

/** Everything one `npm run bench` measured: the file in bench/results/<timestamp>.json. */
export interface BenchResults {
  schema: 1;
  started_at: string;
  finished_at: string;
  duration_s: number;
  mode: BenchPlan['mode'];
  machine: { node: string; platform: string; cpus: number; cpu_model: string; memory_gb: number };
  versions: Record<string, string>;
  /** Time spent waiting for other processes to quiet down, and how often the wait gave up. */
  quiet_waits: { waited_s: number; gave_up: number };
  /** The gateway code measured. */
  source: { commit: string; uncommitted_src: string[] } | null;
  plan: BenchPlan;
  pipeline: { built: string[]; not_built: Array<{ name: string; planned: string }>; full_pipeline_scenarios: { http: string; stdio: string } };
  scenarios: ScenarioResult[];
  targets: TargetResult[];
  scaling: {
    catalog: CatalogScalingRow[];
    sessions: SessionScalingRow[];
    policies: { status: 'not built yet'; planned: number[] };
  };
  micro: MicroResult[];
  profiles: GatewayProfile[];
}

/** `2026-05-01T10-20-30Z`: sortable and safe in a file name. */
export function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

export function writeResults(dir: string, stamp: string, results: BenchResults): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

/** The newest results file in `dir` (by name, which is a timestamp). */
export function latestResults(dir: string): { file: string; results: BenchResults } | undefined {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}-.*\.json$/.test(f))
    .sort();
  const file = files.at(-1);
  return file ? { file, results: JSON.parse(readFileSync(join(dir, file), 'utf8')) as BenchResults } : undefined;
}
