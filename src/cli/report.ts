/**
 * `toolgate report usage|scopes`: least-privilege reports from the audit log (docs/least-privilege.md).
 * Exit 0: report written; 1: the audit store or the policy set could not be read; 2: usage error.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { GrantOracle, permitScopes } from '../least-privilege/grants.js';
import { type Observation, observeCalls, type TimeRange } from '../least-privilege/observed.js';
import { scopeReport } from '../least-privilege/scope-report.js';
import { scopesText } from '../least-privilege/scope-report-text.js';
import { type CatalogTool, GROUPINGS, type GroupBy, usageReport } from '../least-privilege/usage-report.js';
import { usageHtml } from '../least-privilege/usage-report-html.js';
import { usageText } from '../least-privilege/usage-report-table.js';
import { PolicyLoadError } from '../policy/errors.js';
import { ToolKinds } from '../policy/kinds.js';
import { readPolicies } from '../policy/source.js';
import { openWorkbench } from '../policy/workbench.js';
import { type StoreOptions, timeOption, withAuditStore } from './audit-store.js';
import { asksForHelp, UsageError } from './usage.js';

const USAGE = `usage:
  toolgate report usage --config FILE [--db FILE | --home DIR] [--since T] [--until T]
                        [--by agent|user|tenant|upstream] [--json] [--html FILE]
      tools each agent's policies grant vs the tools it called (allowed, denied, first/last seen), share used
  toolgate report scopes --config FILE [--db FILE | --home DIR] [--since T] [--until T] [--json]
      per upstream and per agent: which scopes allowed calls needed, which none did
--config names the gateway config (policy set, upstreams, and the audit store unless --db/--home say otherwise).
T: a time like 2026-11-24 or 2026-11-24T09:00:00Z (--since inclusive, --until exclusive).
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  db: { type: 'string' },
  home: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  by: { type: 'string' },
  json: { type: 'boolean' },
  html: { type: 'string' },
} as const;

type Out = (s: string) => void;
type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export async function runReport(args: string[], out: Out = (s) => process.stdout.write(s), err: Out = (s) => process.stderr.write(s)): Promise<number> {
  if (asksForHelp(args)) {
    out(USAGE);
    return 0;
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (e) {
    err(`toolgate report: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, extra] = positionals;
  if (command !== 'usage' && command !== 'scopes') {
    err(`toolgate report: ${command ? `unknown report "${command}"` : 'which report? usage or scopes'}\n${USAGE}`);
    return 2;
  }
  try {
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (command === 'scopes' && (values.by || values.html)) throw new UsageError(`${values.by ? '--by' : '--html'} is for report usage only`);
    const by = (values.by ?? 'agent') as GroupBy;
    if (!GROUPINGS.includes(by)) throw new UsageError(`--by expects one of ${GROUPINGS.join(', ')}, got "${values.by}"`);
    const range: TimeRange = {
      ...(values.since ? { from: timeOption(values.since, '--since') } : {}),
      ...(values.until ? { to: timeOption(values.until, '--until') } : {}),
    };
    if (range.from && range.to && range.from >= range.to) throw new UsageError('--since must be before --until');
    if (!values.config)
      throw new UsageError(
        `report ${command} needs --config FILE: the ${command === 'usage' ? 'policy set and the live catalog give the "granted" side' : 'upstreams and their scopes come from it'}`,
      );
    const config = loadConfig(values.config);
    if (!config.policy) throw new UsageError(`${config.source} has no policy: section, so nothing says what agents are granted; report ${command} needs the gateway's policy set`);
    const observation = await withAuditStore(storeOf(values), (store) => observeCalls(store, range));
    if (command === 'scopes') {
      const report = scopeReport(observation, config.upstreams, permitScopes(readPolicies(config.policy.files)));
      out(values.json ? `${JSON.stringify(report, null, 2)}\n` : scopesText(report));
      return 0;
    }
    return await usage(config, observation, by, values, out, err);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      err(`toolgate report ${command}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof PolicyLoadError) {
      err(`toolgate report ${command}: the policy set does not load: ${e.message}\n`);
      return 1;
    }
    err(`toolgate report ${command}: ${(e as Error).message}\n`);
    return 1;
  }
}

async function usage(config: GatewayConfig, observation: Observation, by: GroupBy, values: Values, out: Out, err: Out): Promise<number> {
  const policy = config.policy!;
  const bench = await openWorkbench(config);
  try {
    const oracle = new GrantOracle(policy, bench.stage.view, config.upstreams);
    const kinds = new ToolKinds(policy.kinds);
    const catalog: CatalogTool[] = [...bench.registry.catalog.entries('tools')].map((e) => ({
      upstream: e.upstream,
      target: e.original,
      tool: e.exposed,
      kind: kinds.of(e.upstream, e.original),
    }));
    const down = config.upstreams.filter((u) => !catalog.some((t) => t.upstream === u.id)).map((u) => u.id);
    if (down.length > 0) err(`toolgate report usage: no tools from ${down.join(', ')} (down or empty): nothing of it counts as granted\n`);
    const baseline = Object.fromEntries(config.upstreams.map((u) => [u.id, u.scopes ?? []]));
    const knownScopes = [...new Set([...Object.values(baseline).flat(), ...oracle.scopeOf.values(), ...observation.calls.flatMap((c) => c.scopes)])].sort();
    const report = usageReport({
      observation,
      catalog,
      grant: (p, upstream, target) => oracle.grant(p, upstream, target),
      kindOf: (upstream, target) => kinds.of(upstream, target),
      agents: policy.agents,
      knownScopes,
      by,
      policySetHash: oracle.policySetHash,
    });
    if (values.html) {
      writeFileSync(values.html, usageHtml(report));
      err(`wrote ${values.html}\n`);
    }
    out(values.json ? `${JSON.stringify(report, null, 2)}\n` : usageText(report));
    return 0;
  } finally {
    await bench.close();
  }
}

function storeOf(values: Values): StoreOptions {
  if (values.db) return { db: values.db };
  return { config: values.config!, ...(values.home ? { home: values.home } : {}) };
}
