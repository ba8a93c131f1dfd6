/**
 * `npm run bench`: what toolgate costs, side by side with a direct call, a bare Node hop and a
 * peer proxy, in one run. Writes bench/results/<timestamp>.json and regenerates
 * bench/README.md and bench/percentiles.svg.
 *
 * BENCH_QUICK=1 for a one-minute check of the harness; `--report-only` to regenerate the
 * README from the newest results file without measuring.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../src/gateway.js';
import { runRounds } from './e2e/rounds.js';
import { fullPipelineScenario, type RunningScenario, type Scenario, type SharedUpstreams, scenarios } from './e2e/scenarios.js';
import { builtStages, PIPELINE_STAGES } from './gateway/pipeline-stages.js';
import { measureCell } from './load/cell.js';
import { runMicroBenchmarks } from './micro/suite.js';
import { benchPlan } from './plan.js';
import { QuietGate } from './processes/foreign-load.js';
import { repoRoot } from './processes/repo-root.js';
import { sourceRevision } from './processes/source-revision.js';
import { type GatewayProfile, profileGateway } from './profile/gateway-profile.js';
import { publish } from './report/publish.js';
import { type BenchResults, latestResults, timestamp, writeResults } from './report/run-results.js';
import { type ScenarioResult, scenarioResults } from './report/scenario-results.js';
import { evaluateTargets, MODERATE_CONCURRENCY } from './report/targets.js';
import { catalogScaling } from './scaling/catalog-size.js';
import { sessionScaling } from './scaling/open-sessions.js';
import { startEverythingHttp } from './upstreams/everything.js';
import { startFastHttpFixture } from './upstreams/fast-fixture.js';

const root = repoRoot();
const benchDir = join(root, 'bench');
const resultsDir = join(benchDir, 'results');
const require = createRequire(import.meta.url);
const t0 = performance.now();
const log = (line: string): void => void process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function measure(): Promise<void> {
  if (process.env.BENCH_AUDIT !== undefined) {
    // A diagnostic switch of gateway/process.ts (an in-memory audit sink): never in published figures.
    process.stderr.write('bench: unset BENCH_AUDIT for a benchmark run; it replaces the durable audit log\n');
    process.exit(2);
  }
  const plan = benchPlan();
  const started = new Date();
  const stamp = timestamp(started);
  log(`${plan.mode} run: ${plan.rounds} round(s), concurrency ${plan.concurrencies.join('/')}, ${plan.durationMs} ms per measurement`);

  const fastHttp = await startFastHttpFixture();
  const everything = plan.everything ? await startEverythingHttp() : undefined;
  const shared: SharedUpstreams = { fastHttp, ...(everything ? { everythingUrl: everything.url } : {}) };
  const list = scenarios(plan.everything);
  const full = { http: fullPipelineScenario('http'), stdio: fullPipelineScenario('stdio') };
  const gate = new QuietGate(plan.quiet);
  try {
    // End to end: every scenario up at once, measured in interleaved rounds.
    const running: Array<{ scenario: Scenario; run: RunningScenario }> = [];
    let results: ScenarioResult[];
    try {
      for (const scenario of list) {
        running.push({ scenario, run: await scenario.start(shared) });
        log(`started ${scenario.name}`);
      }
      for (const { scenario, run } of running) {
        await measureCell(run.target, MODERATE_CONCURRENCY, { warmupMs: 0, durationMs: plan.initialWarmupMs });
        log(`warmed up ${scenario.name}`);
      }
      results = scenarioResults(await runRounds(running, plan, gate, log));
    } finally {
      await Promise.all(running.map(({ run }) => run.stop()));
    }

    const catalog = await catalogScaling(fastHttp, plan, gate, log);
    const sessions = await sessionScaling(fastHttp, plan, gate, log);
    const micro = await runMicroBenchmarks(plan.microMs, log);
    const targets = evaluateTargets(results, sessions, full, plan.concurrencies);

    // A missed target gets a profile of the gateway path it was judged on.
    const profiles: GatewayProfile[] = [];
    // (An RSS miss is explained by the sustained-calls figures instead; see report/readme.ts.)
    const missed = new Set(targets.filter((t) => !t.met && t.unit !== 'MB').map((t) => t.scenario));
    for (const name of [full.http, full.stdio].filter((n) => missed.has(n))) {
      const scenario = list.find((s) => s.name === name)!;
      log(`profiling ${name} at c=${MODERATE_CONCURRENCY}`);
      await gate.wait();
      profiles.push(
        await profileGateway(scenario, shared, { concurrency: MODERATE_CONCURRENCY, durationMs: plan.profileMs, warmupMs: plan.warmupMs, dir: resultsDir, repoRoot: root, stamp }),
      );
    }

    const finished = new Date();
    const report: BenchResults = {
      schema: 1,
      started_at: started.toISOString(),
      finished_at: finished.toISOString(),
      duration_s: Math.round((finished.getTime() - started.getTime()) / 1000),
      mode: plan.mode,
      machine: {
        node: process.versions.node,
        platform: `${process.platform} ${process.arch}`,
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? 'unknown',
        memory_gb: Math.round(totalmem() / 2 ** 30),
      },
      versions: {
        toolgate: VERSION,
        'mcp-proxy': packageVersion('mcp-proxy'),
        '@modelcontextprotocol/server-everything': packageVersion('@modelcontextprotocol/server-everything'),
        undici: packageVersion('undici'),
      },
      source: sourceRevision(root),
      quiet_waits: { waited_s: Math.round(gate.waitedMs / 100) / 10, gave_up: gate.gaveUp },
      plan,
      pipeline: {
        built: builtStages().map((s) => s.name),
        not_built: PIPELINE_STAGES.filter((s) => !builtStages().includes(s)).map((s) => ({ name: s.name, planned: s.planned })),
        full_pipeline_scenarios: full,
      },
      scenarios: results,
      targets,
      scaling: { catalog, sessions, policies: { status: 'not built yet', planned: [10, 50, 200] } },
      micro,
      profiles,
    };
    const path = writeResults(resultsDir, stamp, report);
    publish(benchDir, `${stamp}.json`, report);
    log(`wrote ${path} and bench/README.md`);
    for (const t of targets)
      log(`${t.met ? 'met   ' : 'MISSED'} ${t.target} (${t.scenario}${t.concurrency ? ` c=${t.concurrency}` : ''}): ${t.measured} ${t.unit}, limit ${t.limit}`);
  } finally {
    await everything?.stop();
    await fastHttp.stop();
  }
}

function reportOnly(): void {
  const latest = latestResults(resultsDir);
  if (!latest) throw new Error(`no results in ${resultsDir}; run npm run bench first`);
  publish(benchDir, latest.file, latest.results);
  log(`regenerated bench/README.md from results/${latest.file}`);
}

const job = process.argv.includes('--report-only') ? Promise.resolve().then(reportOnly) : measure();
job.then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
