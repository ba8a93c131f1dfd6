/**
 * `toolgate policy validate|test|explain --config FILE`: the policy set checked against the live
 * catalog's schema, a table of expected decisions run against it, and one request explained
 * (`--policies DIR`: against those files instead). `suggest|shadow|promote`: the candidate-set
 * workflow of docs/least-privilege.md (src/cli/candidate.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { PolicyLoadError } from '../policy/errors.js';
import { type Answer, ask, type Question } from '../policy/explain.js';
import { NoPolicySection, openWorkbench, type Workbench } from '../policy/workbench.js';
import { runCandidate } from './candidate.js';
import { asksForHelp } from './usage.js';

const USAGE = `usage: toolgate policy validate --config FILE
       toolgate policy test TESTFILE --config FILE [--policies DIR]
       toolgate policy suggest --config FILE [--since T] [--until T] [--out DIR] [--force] [--at T]
       toolgate policy shadow --config FILE [--since T] [--until T] [--json]
       toolgate policy promote --config FILE [--since T] [--until T] [--force]
       toolgate policy explain --config FILE --agent ID --tool NAME [--user ID] [--tenant ID] [--scopes "a b"] [--time ISO] [--arguments JSON] [--no-session]
`;

type Out = (s: string) => void;

export async function runPolicy(args: string[], out: Out = (s) => process.stdout.write(s), err: Out = (s) => process.stderr.write(s)): Promise<number> {
  if (asksForHelp(args)) {
    out(USAGE);
    return 0;
  }
  const [sub, ...rest] = args;
  const options = {
    config: { type: 'string', short: 'c' },
    agent: { type: 'string' },
    user: { type: 'string' },
    tenant: { type: 'string' },
    scopes: { type: 'string' },
    time: { type: 'string' },
    tool: { type: 'string' },
    arguments: { type: 'string' },
    'no-session': { type: 'boolean' },
    policies: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    at: { type: 'string' },
  } as const;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options });
  } catch (e) {
    err(`toolgate policy: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (sub === 'suggest' || sub === 'shadow' || sub === 'promote') {
    if (positionals.length === 0) return runCandidate(sub, values, out, err);
    err(`toolgate policy ${sub}: unexpected argument "${positionals[0]}"\n${USAGE}`);
    return 2;
  }
  if (!values.config || !['validate', 'test', 'explain'].includes(sub ?? '')) {
    err(USAGE);
    return 2;
  }
  let bench: Workbench;
  try {
    bench = await openWorkbench(withPolicies(loadConfig(values.config), values.policies));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof NoPolicySection) {
      err(`toolgate: ${e.message}\n`);
      return 2;
    }
    if (e instanceof PolicyLoadError) {
      err(`policy refused: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    if (sub === 'validate') {
      const s = bench.stage.status();
      out(`ok: ${s.policies} policies valid against the schema of ${[...bench.registry.catalog.entries('tools')].length} tools (${s.policySetHash})\n`);
      return 0;
    }
    if (sub === 'test') {
      if (!positionals[0]) {
        err(USAGE);
        return 2;
      }
      return runTable(bench, positionals[0], out);
    }
    if (!values.agent || !values.tool) {
      err(USAGE);
      return 2;
    }
    const q: Question = {
      principal: { agent: values.agent, ...(values.user ? { user: values.user } : {}), ...(values.tenant ? { tenant: values.tenant } : {}), scopes: values.scopes ?? '' },
      tool: values.tool,
      arguments: values.arguments ? (JSON.parse(values.arguments) as Record<string, unknown>) : {},
      ...(values.time ? { time: values.time } : {}),
      session: !values['no-session'],
    };
    out(explanation(q, ask(bench, q)));
    return 0;
  } finally {
    await bench.close();
  }
}

interface Row extends Question {
  name?: string;
  expect: Answer['verdict'];
  /** Deciding policy ids, compared as a set when given. */
  policies?: string[];
}

function runTable(bench: Workbench, file: string, out: Out): number {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { cases?: Row[] };
  const rows = doc?.cases ?? [];
  let failed = 0;
  rows.forEach((row, i) => {
    const a = ask(bench, row);
    const got = a.decision?.policies ?? [];
    const policiesOk = !row.policies || (row.policies.length === got.length && row.policies.every((p) => got.includes(p)));
    const ok = a.verdict === row.expect && policiesOk;
    if (!ok) failed++;
    const label = row.name ?? `${row.principal.agent} ${row.tool}`;
    out(`${ok ? 'ok  ' : 'FAIL'} ${i + 1} ${label}: ${a.verdict}${got.length ? ` by ${got.join(', ')}` : ''}${a.argumentProblem ? ` (${a.argumentProblem})` : ''}`);
    out(ok ? '\n' : `; expected ${row.expect}${row.policies ? ` by ${row.policies.join(', ')}` : ''}\n`);
  });
  out(`${rows.length - failed} of ${rows.length} passed\n`);
  return failed === 0 && rows.length > 0 ? 0 : 1;
}

function explanation(q: Question, a: Answer): string {
  const lines = [`${q.principal.agent}${q.principal.user ? ` (user ${q.principal.user})` : ''} → ${q.tool} at ${q.time ?? 'now'}: ${a.verdict.toUpperCase()}`];
  if (a.verdict === 'unknown-tool') lines.push('  no such tool in the live catalog');
  lines.push(`  listed in tools/list: ${a.listed ? 'yes' : 'no (a call answers "not found")'}`);
  if (a.argumentProblem) lines.push(`  arguments refused before policy: ${a.argumentProblem}`);
  if (a.decision) {
    if (a.deciding.length === 0) lines.push(`  no policy matched: default deny`);
    for (const d of a.deciding) lines.push(`  decided by ${d.id} (${d.where}):`, ...d.text.split('\n').map((l) => `    ${l}`));
    for (const e of a.decision.errors) lines.push(`  evaluation error: ${e}`);
    if (a.decision.missingScopes) lines.push(`  would be allowed with scope: ${a.decision.missingScopes.join(' ')} (answered 403 insufficient_scope)`);
    lines.push(`  policy set ${a.decision.policySetHash}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `--policies DIR`: the same config, with these policy files enforced instead (and no shadow set). */
function withPolicies(config: GatewayConfig, policies: string | undefined): GatewayConfig {
  if (!policies || !config.policy) return config;
  return { ...config, policy: { ...config.policy, files: [resolve(policies)], shadowFiles: [] } };
}
