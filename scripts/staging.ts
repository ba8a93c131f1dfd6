/**
 * `npm run staging` — least privilege from observed traffic, end to end against the demo world
 * in two days:
 *
 *   day 1  the demo's agents work through the gateway (SDK clients, dev-issuer tokens, a fixed
 *          in-business-hours policy clock); most granted tools are never used
 *          → the usage report (when src/least-privilege/usage-report.ts is there), `policy suggest`, and the
 *            suggestion's own test table run against it
 *   day 2  the gateway restarts with the suggestion as `policy.shadow`; the same kind of traffic
 *          plus a few calls to tools unused on day 1
 *          → `policy shadow`: the suggestion agreed on every call like day 1's and would deny
 *            exactly the unused tools
 *
 * Everything lives in --home (default ./.toolgate-staging, replaced on each run); afterwards
 * the CLI works on it, e.g. `toolgate policy shadow --config .toolgate-staging/toolgate.yaml`.
 * Exit 0 when the suggestion behaved as claimed, 1 when not, 2 on bad options.
 */

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withAuditStore } from '../src/cli/audit-store.js';
import { runPolicy } from '../src/cli/policy.js';
import { loadConfig } from '../src/config/load.js';
import { compareShadow, renderComparison, wouldBreak } from '../src/least-privilege/disagreements.js';
import { observeCalls } from '../src/least-privilege/observed.js';
import { figuresOf, suggestPolicies, summary } from '../src/least-privilege/suggest-command.js';
import { driveDay } from './staging-traffic.js';
import { startStagingWorld } from './staging-world.js';

const DAY1 = new Date('2026-11-24T08:00:00Z'); // Tuesday 09:00 in Berlin
const DAY2 = new Date('2026-11-25T08:00:00Z');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: npm run staging -- [--home DIR] [--scale N]   (N: traffic multiplier, default 1 ≈ 300 calls a day)';

export async function runStaging(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const options = { home: { type: 'string', default: '.toolgate-staging' }, scale: { type: 'string', default: '1' } } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (e) {
    process.stderr.write(`staging: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const scale = Number(values.scale);
  const home = resolve(values.home);
  if (!(scale > 0)) return usage(`--scale expects a positive number, got "${values.scale}"`);
  if (existsSync(home) && readdirSync(home).length > 0) {
    if (!existsSync(join(home, 'toolgate.yaml')) || !existsSync(join(home, 'audit.db'))) return usage(`${home} exists and is not a previous staging home; choose another --home`);
    rmSync(home, { recursive: true, force: true });
  }
  const world = await startStagingWorld({ home, clock: DAY1 });
  try {
    const h = (s: string) => out(`\n== ${s} ${'='.repeat(Math.max(0, 86 - s.length))}\n`);
    h('day 1: staging traffic');
    const day1From = new Date();
    const day1 = await driveDay(world, { seed: 1, start: DAY1, scale });
    const day1To = new Date();
    out(`${day1.calls} calls through ${world.gateway.url} (${day1.refused} refused by the gateway), policy time ${DAY1.toISOString()} onwards\n`);

    h('usage report (toolgate report usage)');
    out(await usageReport(world.configFile));

    h('toolgate policy suggest');
    const config = loadConfig(world.configFile);
    const observation = await withAuditStore({ config: world.configFile }, (store) => observeCalls(store, { from: day1From, to: day1To }));
    const s = await suggestPolicies(config, observation, { out: join(home, 'suggested-policies'), at: new Date(DAY1.getTime() + 2 * 3600_000).toISOString() });
    out(summary(s));

    h('toolgate policy test suggested-policies/tests.yaml --policies suggested-policies');
    let table = '';
    const tested = await runPolicy(
      ['test', join(s.outDir, 'tests.yaml'), '--config', world.configFile, '--policies', s.outDir],
      (x) => (table += x),
      (x) => (table += x),
    );
    out(
      `${table
        .split('\n')
        .filter((l) => l.startsWith('FAIL') || /passed$/.test(l))
        .join('\n')}\n`,
    );

    h('day 2: the suggestion runs as policy.shadow');
    await world.restart({ shadow: 'suggested-policies' });
    const day2From = new Date();
    const day2 = await driveDay(world, { seed: 2, start: DAY2, scale, extras: true });
    out(
      `${day2.calls} calls (${day2.refused} refused), including ${day2.extras.length} (agent, tool) pairs unused on day 1: ${day2.extras.map((e) => `${e.agent} ${e.tool}`).join(', ')}\n`,
    );

    h('toolgate policy shadow --since <day 2>');
    const calls = (await withAuditStore({ config: world.configFile }, (store) => observeCalls(store, { from: day2From }))).calls;
    const comparison = compareShadow(calls, s.policySetHash);
    out(renderComparison(comparison));

    h('figures');
    const figures = figuresOf(s);
    for (const f of figures)
      out(
        `${f.agent.padEnd(14)} granted ${String(f.granted).padStart(2)}  used ${String(f.used).padStart(2)} (${Math.round((100 * f.used) / Math.max(1, f.granted))}%)   write/delete granted ${String(f.grantedWrites).padStart(2)} → kept ${f.keptWrites}\n`,
      );
    const granted = figures.reduce((n, f) => n + f.granted, 0);
    const used = figures.reduce((n, f) => n + f.used, 0);
    const writes = figures.reduce((n, f) => n + f.grantedWrites, 0);
    const kept = figures.reduce((n, f) => n + f.keptWrites, 0);
    out(
      `all agents: ${used} of ${granted} granted (agent × tool) used = ${Math.round((100 * used) / granted)}%; write/delete surface ${writes} → ${kept} (${Math.round((100 * (writes - kept)) / Math.max(1, writes))}% removed)\n`,
    );

    // The claim: the shadow set allowed every call like day 1's and denied exactly the unused tools.
    const breaks = new Set(wouldBreak(comparison).map((g) => `${g.agent} ${g.tool}`));
    const expected = new Set(day2.extras.map((e) => `${e.agent} ${e.tool}`));
    const problems = [
      ...[...breaks].filter((b) => !expected.has(b)).map((b) => `the suggestion would break ${b}, which day 1 used`),
      ...[...expected].filter((e) => !breaks.has(e)).map((e) => `the suggestion did not deny ${e}, unused on day 1`),
      ...comparison.groups.filter((g) => g.direction === 'would-widen').map((g) => `the suggestion would allow ${g.agent} ${g.tool}, which the enforced set denied`),
      ...(tested === 0 ? [] : ['the generated tests.yaml did not pass against the suggestion']),
    ];
    h('result');
    out(
      problems.length
        ? `NOT AS CLAIMED:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`
        : `as claimed: the suggestion agreed with the enforced set on ${comparison.agreed} of ${comparison.evaluated} day-2 decisions and would deny exactly the ${expected.size} tools unused on day 1\n`,
    );
    out(`\nthe staging home stays for the CLI: toolgate policy shadow --config ${world.configFile}\n`);
    return problems.length ? 1 : 0;
  } finally {
    await world.close();
  }
}

function usage(message: string): number {
  process.stderr.write(`staging: ${message}\n${USAGE}\n`);
  return 2;
}

/**
 * `toolgate report usage`, run as the CLI (table on stdout, the HTML page beside the config).
 * Asynchronously: the CRM it lists tools from runs in this process. Its failure fails the run.
 */
function usageReport(configFile: string): Promise<string> {
  const html = join(dirname(configFile), 'usage.html');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'report', 'usage', '--config', configFile, '--html', html],
      { cwd: ROOT, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`toolgate report usage failed: ${(stderr || stdout || error.message).trim()}`));
        else resolve(`${stdout}\nthe same as a page: ${html}\n`);
      },
    );
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runStaging(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`staging: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
