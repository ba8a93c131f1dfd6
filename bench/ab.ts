/**
 * A/B: the same toolgate scenarios from two builds, measured in interleaved rounds, so a change's
 * effect is told apart from the drift of a shared machine. Build A is another compiled tree
 * (a copy of dist/ from before the change, with package.json, examples/ and node_modules beside
 * it); build B is this one.
 *
 *   node dist/bench/ab.js --base /tmp/before/dist [--scenarios toolgate-http,toolgate-full-http]
 *     [--concurrency 1,16] [--rounds 4] [--ms 2000] [--profile out-prefix]
 *
 * Prints per scenario, concurrency and build: calls/s (median of rounds, min–max), p50, p99 over
 * all rounds, and the gateway's CPU ms per call. `--profile` writes a CPU profile of build B
 * under the first concurrency after the rounds.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type RunningScenario, scenarios } from './e2e/scenarios.js';
import { measureCell } from './load/cell.js';
import { newLatencyHistogram, percentiles } from './load/latency.js';
import { QuietGate } from './processes/foreign-load.js';
import { repoRoot } from './processes/repo-root.js';
import { summariseProfile } from './profile/self-time.js';
import { startFastHttpFixture } from './upstreams/fast-fixture.js';

interface Options {
  base: string;
  names: string[];
  concurrency: number[];
  rounds: number;
  ms: number;
  profile?: string;
}

function usage(message: string): never {
  process.stderr.write(
    `ab: ${message}\nusage: node dist/bench/ab.js --base <other build's dist> [--scenarios a,b] [--concurrency 1,16] [--rounds 4] [--ms 2000] [--profile prefix]\n`,
  );
  process.exit(2);
}

function parse(argv: string[]): Options {
  const o: Partial<Options> = { names: ['toolgate-http', 'toolgate-full-http'], concurrency: [1, 16], rounds: 4, ms: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    if (value === undefined) usage(`${flag} needs a value`);
    const count = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) usage(`${flag} needs a positive whole number, not "${value}"`);
      return n;
    };
    if (flag === '--base') o.base = resolve(value);
    else if (flag === '--scenarios') o.names = value.split(',');
    else if (flag === '--concurrency')
      o.concurrency = value.split(',').map((v) => (Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : usage(`--concurrency: "${v}" is not a positive whole number`)));
    else if (flag === '--rounds') o.rounds = count();
    else if (flag === '--ms') o.ms = count();
    else if (flag === '--profile') o.profile = resolve(value);
    else usage(`unknown option ${flag}`);
  }
  if (!o.base) usage('--base is required');
  if (!existsSync(join(o.base, 'bench/gateway/process.js'))) usage(`${o.base} has no bench/gateway/process.js (is it a compiled dist/?)`);
  return o as Options;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const all = scenarios(false);
  const chosen = o.names.map((n) => all.find((s) => s.name === n) ?? usage(`unknown scenario ${n}; known: ${all.map((s) => s.name).join(', ')}`));
  if (chosen.some((s) => s.upstream === 'everything-http')) usage('the everything scenarios are not supported here');
  const fastHttp = await startFastHttpFixture();
  const builds = [
    { name: 'A', script: join(o.base, 'bench/gateway/process.js') },
    { name: 'B', script: undefined },
  ];
  const running: Array<{ key: string; build: string; scenario: string; run: RunningScenario }> = [];
  try {
    for (const scenario of chosen) {
      for (const build of builds) {
        const run = await scenario.start({ fastHttp }, build.script);
        running.push({ key: `${scenario.name}/${build.name}`, build: build.name, scenario: scenario.name, run });
        await measureCell(run.target, 16, { warmupMs: 0, durationMs: 1500 });
      }
    }
    const cells = new Map<string, { rps: number[]; cpu: number[]; foreign: number[]; histogram: ReturnType<typeof newLatencyHistogram>; errors: number }>();
    // Before each measurement, wait (a while) for other processes to leave the machine alone.
    const gate = new QuietGate({ thresholdCores: 0.25, perWaitMs: 5000, budgetMs: 180_000, probeMs: 300 });
    for (let round = 0; round < o.rounds; round++) {
      for (const c of o.concurrency) {
        // Rotate the order each round, so neither build always runs first.
        const order = round % 2 === 0 ? running : [...running].reverse();
        for (const r of order) {
          await gate.wait();
          const cell = await measureCell(r.run.target, c, { warmupMs: 300, durationMs: o.ms });
          const key = `${r.key}@${c}`;
          const acc = cells.get(key) ?? { rps: [], cpu: [], foreign: [], histogram: newLatencyHistogram(), errors: 0 };
          acc.rps.push(cell.throughputRps);
          acc.cpu.push((cell.cpuMs ?? 0) / Math.max(1, cell.calls));
          acc.foreign.push(cell.foreignCores ?? 0);
          acc.histogram.add(cell.histogram);
          acc.errors += cell.errors;
          cells.set(key, acc);
          process.stderr.write(`round ${round + 1} c=${c} ${key}: ${Math.round(cell.throughputRps)}/s${cell.errors ? ` ${cell.errors} errors: ${cell.firstError}` : ''}\n`);
        }
      }
    }
    console.log(`gate waited ${Math.round(gate.waitedMs / 1000)} s, gave up ${gate.gaveUp} time(s)`);
    // Per round, B's calls/s over A's (measured back to back): drift of the machine between
    // rounds cancels out of these.
    console.log('| scenario | c | B/A calls/s per round: median (min–max) | B/A CPU per call: median |');
    console.log('|---|---|---|---|');
    for (const scenario of chosen) {
      for (const c of o.concurrency) {
        const a = cells.get(`${scenario.name}/A@${c}`)!;
        const b = cells.get(`${scenario.name}/B@${c}`)!;
        const rps = b.rps.map((x, i) => x / a.rps[i]!);
        const cpu = b.cpu.map((x, i) => x / a.cpu[i]!);
        console.log(`| ${scenario.name} | ${c} | ${median(rps).toFixed(2)} (${Math.min(...rps).toFixed(2)}–${Math.max(...rps).toFixed(2)}) | ${median(cpu).toFixed(2)} |`);
      }
    }
    console.log('');
    console.log('| scenario | c | build | calls/s median (min–max) | p50 ms | p99 ms | CPU ms/call median (min–max) | other load, cores | errors |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const scenario of chosen) {
      for (const c of o.concurrency) {
        for (const build of builds) {
          const acc = cells.get(`${scenario.name}/${build.name}@${c}`)!;
          const p = percentiles(acc.histogram);
          console.log(
            `| ${scenario.name} | ${c} | ${build.name} | ${Math.round(median(acc.rps))} (${Math.round(Math.min(...acc.rps))}–${Math.round(Math.max(...acc.rps))}) | ${p.p50_ms.toFixed(3)} | ${p.p99_ms.toFixed(3)} | ${median(acc.cpu).toFixed(3)} (${Math.min(...acc.cpu).toFixed(3)}–${Math.max(...acc.cpu).toFixed(3)}) | ${median(acc.foreign).toFixed(2)} | ${acc.errors} |`,
          );
        }
      }
    }
    if (o.profile) {
      for (const r of running.filter((x) => x.build === 'B')) {
        const gateway = r.run.gateway!;
        const file = `${o.profile}-${r.scenario}-c${o.concurrency[0]}.cpuprofile`;
        await gateway.startProfile();
        const cell = await measureCell(r.run.target, o.concurrency[0]!, { warmupMs: 300, durationMs: o.ms });
        await gateway.stopProfile(file);
        const summary = summariseProfile(file, repoRoot(), 25);
        console.log(`\nprofile ${r.scenario} c=${o.concurrency[0]}: ${Math.round(cell.throughputRps)}/s, ${file}`);
        console.log(JSON.stringify(summary, null, 1));
      }
    }
  } finally {
    for (const r of running) await r.run.stop().catch(() => undefined);
    await fastHttp.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ab: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
