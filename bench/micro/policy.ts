/**
 * Policy decision latency: CedarPolicyStage.decide() (request building + cedar-wasm
 * statefulIsAuthorized on the pre-parsed, per-action slice) for sales-bot's write_contact, at 10,
 * 50 and 200 policies, over the example CRM's real catalog (33 tools). Two shapes of policy set:
 *   scoped — filler policies name their action or action group, as real ones do (slicing helps);
 *   global — every filler policy has an unconstrained action, so all of them are evaluated.
 * Each call is timed on its own (process.hrtime), so p99 is a per-decision figure. Measured with
 * the decision memo off (every call crosses into wasm) and on (repeated equal inputs).
 *
 * Run: node --import tsx bench/micro/policy.ts [--calls 20000]
 *
 * Each configuration runs in its own child process: running all twelve in one process made
 * Node 20's V8 abort ("Fatal error … unreachable code" in Deoptimizer::DoComputeBuiltinContinuation)
 * after several of them, reproducibly; `--in-process` still does that, for whoever investigates.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCrmServer } from '../../examples/crm/server.js';
import { silentLogger } from '../../src/log.js';
import { MemoryAuditSink } from '../../src/pipeline/pass-through.js';
import type { Invocation, Principal, RequestContext } from '../../src/pipeline/stages.js';
import { FixedClock } from '../../src/policy/clock.js';
import { DEFAULT_KIND_RULES } from '../../src/policy/kinds.js';
import { CedarPolicyStage } from '../../src/policy/stage.js';
import { UpstreamRegistry } from '../../src/upstream/registry.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '20000' }, only: { type: 'string' }, 'in-process': { type: 'boolean' } } });
/** `--only off:global:200` runs one configuration (one per process keeps wasm memory small). */
const ONLY = values.only;
const CALLS = Number(values.calls);
const EXAMPLES = fileURLToPath(new URL('../../examples/policies/', import.meta.url));
const CRM_TOOLS = [
  'search_contacts',
  'get_contact',
  'create_contact',
  'update_contact',
  'write_contact',
  'merge_contacts',
  'search_deals',
  'update_deal',
  'add_note',
  'create_task',
];

/** `count` filler policies; `global` ones leave the action unconstrained. */
function filler(count: number, global: boolean): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const tool = CRM_TOOLS[i % CRM_TOOLS.length]!;
    const action = global ? 'action' : i % 3 === 0 ? 'action in Action::"kind:write"' : `action == Action::"crm/${tool}"`;
    out.push(
      i % 4 === 3
        ? `@id("filler-${i}") forbid (principal == Agent::"agent-${i}", ${action}, resource) unless { context.user.present && context.time.hour >= 7 };`
        : `@id("filler-${i}") permit (principal == Agent::"agent-${i}", ${action}, resource in Server::"crm") when { context.time.minuteOfDay >= ${480 + (i % 60)} && context.scopes.contains("crm.write") && context.tenant == "acme" };`,
    );
  }
  return `${out.join('\n')}\n`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function main(): Promise<void> {
  const crm = await startCrmServer({ port: 0 });
  const registry = new UpstreamRegistry(
    [{ id: 'crm', transport: { type: 'http', url: crm.url, headers: {} }, prefix: 'crm__', protocol: 'auto', timeouts: { connectMs: 5000, requestMs: 30000 } }],
    { catalogChanged() {}, resourceUpdated() {}, log() {} },
  );
  await registry.start();
  const examplePolicies = 9; // crm.cedar, deletes.cedar, readers.cedar (hr.cedar needs the HR upstream)
  const principal: Principal = { agent: 'sales-bot', user: 'alice', tenant: 'acme', scopes: ['crm.read', 'crm.write'], bindingKey: 'b', anonymous: false };
  const invocation: Invocation = {
    method: 'tools/call',
    upstream: 'crm',
    target: 'write_contact',
    exposedName: 'crm__write_contact',
    arguments: { tenant: 'acme', first_name: 'Ada', last_name: 'Lovelace', email: 'ada@acme.example', tags: ['vip'] },
  };
  const ctx: RequestContext = { requestId: 'r', sessionId: 's', protocolVersion: '2025-11-25', receivedAt: new Date() };
  const rows: string[] = [];
  try {
    for (const memo of [false, true])
      for (const shape of ['scoped', 'global'] as const) {
        for (const total of [10, 50, 200]) {
          if (ONLY && ONLY !== `${memo ? 'on' : 'off'}:${shape}:${total}`) continue;
          const dir = mkdtempSync(join(tmpdir(), 'toolgate-bench-policy-'));
          for (const f of ['crm.cedar', 'deletes.cedar', 'readers.cedar']) cpSync(join(EXAMPLES, f), join(dir, f));
          writeFileSync(join(dir, 'filler.cedar'), filler(total - examplePolicies, shape === 'global'));
          const stage = new CedarPolicyStage(
            { files: [dir], shadowFiles: [], timeZone: 'Europe/Berlin', agents: {}, kinds: { '*': DEFAULT_KIND_RULES }, maxArgumentBytes: 65536 },
            { catalog: registry.catalog, clock: new FixedClock(new Date('2026-11-24T10:00:00Z')), audit: new MemoryAuditSink(), logger: silentLogger, upstreams: ['crm'] },
          );
          stage.load();
          // The memo of equal Cedar inputs is measured separately: off, every call crosses into wasm.
          (stage as unknown as { enforced: { memoEnabled: boolean } }).enforced.memoEnabled = memo;
          const first = stage.decide(principal, invocation, ctx);
          if (first.verdict !== 'allow') throw new Error(`expected allow, got ${JSON.stringify(first)}`);
          for (let i = 0; i < 2000; i++) stage.decide(principal, invocation, ctx); // warm-up
          const times: number[] = [];
          for (let i = 0; i < CALLS; i++) {
            const t0 = process.hrtime.bigint();
            stage.decide(principal, invocation, ctx);
            times.push(Number(process.hrtime.bigint() - t0) / 1000);
          }
          times.sort((a, b) => a - b);
          rows.push(
            `| ${memo ? 'on' : 'off'} | ${shape} | ${stage.status().policies} | ${percentile(times, 0.5).toFixed(0)} | ${percentile(times, 0.99).toFixed(0)} | ${percentile(times, 0.999).toFixed(0)} |`,
          );
          rmSync(dir, { recursive: true, force: true });
        }
      }
  } finally {
    await registry.close();
    await crm.close();
  }
  process.stdout.write(
    `policy decide() for crm/write_contact, ${CALLS} calls each, Node ${process.version}\n\n| memo | policy set | policies | p50 µs | p99 µs | p99.9 µs |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
}

const CONFIGS = ['off', 'on'].flatMap((m) => ['scoped', 'global'].flatMap((s) => [10, 50, 200].map((n) => `${m}:${s}:${n}`)));

if (ONLY || values['in-process']) await main();
else {
  const { execFileSync } = await import('node:child_process');
  const script = fileURLToPath(import.meta.url);
  const rows = CONFIGS.map((c) => {
    const out = execFileSync(process.execPath, [...process.execArgv, script, '--calls', String(CALLS), '--only', c], { encoding: 'utf8' });
    return out.split('\n').find((l) => l.startsWith('| o'))!;
  });
  process.stdout.write(
    `policy decide() for crm/write_contact, ${CALLS} calls each, Node ${process.version}, one process per row\n\n| memo | policy set | policies | p50 µs | p99 µs | p99.9 µs |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
}
