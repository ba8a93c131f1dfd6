/**
 * The audit log under the gateway's own pattern of use, A/B between two builds in one process:
 *
 *   node dist/bench/micro/audit-calls.js [--base /tmp/before/dist] [--concurrency 1,16] [--rounds 6] [--ms 1000] [--hops 2]
 *
 * Each simulated call awaits its decision record (fail closed), "forwards" (a turn of the event
 * loop), then records its outcome without waiting for it, as the pipeline does; `hops`
 * thread-pool round trips stand for the upstream call and for the client's way to its next
 * call. Per build and concurrency: calls/s, latency of the decision record p50/p99, CPU per
 * call of the whole process
 * (the SQLite writer thread included), and store commits per call. Rounds alternate the builds,
 * so a busy machine hits both alike; medians of the rounds are reported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChainedAuditLog } from '../../src/audit/chained-log.js';
import type { AuditKeys } from '../../src/audit/keys.js';
import type { AuditStore } from '../../src/audit/store.js';
import type { AuditEvent } from '../../src/pipeline/stages.js';

interface Build {
  name: string;
  open(dir: string): Promise<{ log: ChainedAuditLog; commits(): number }>;
}

function usage(message: string): never {
  process.stderr.write(
    `audit-calls: ${message}\nusage: node dist/bench/micro/audit-calls.js [--base <other build's dist>] [--concurrency 1,16] [--rounds 6] [--ms 1000] [--hops 2]\n`,
  );
  process.exit(2);
}

async function loadBuild(name: string, root: string | undefined): Promise<Build> {
  const from = (path: string): Promise<Record<string, unknown>> =>
    import(root === undefined ? new URL(`../../src/audit/${path}`, import.meta.url).href : pathToFileURL(join(root, 'src/audit', path)).href);
  const [{ ChainedAuditLog: Log }, { SqliteAuditStore: Store }, { loadAuditKeys }, { Redactor: Red }] = (await Promise.all([
    from('chained-log.js'),
    from('sqlite-store.js'),
    from('keys.js'),
    from('redaction.js'),
  ])) as [
    { ChainedAuditLog: typeof ChainedAuditLog },
    { SqliteAuditStore: new (path: string) => AuditStore },
    { loadAuditKeys: (dir: string) => AuditKeys },
    { Redactor: new (settings: unknown, master: Buffer) => unknown },
  ];
  return {
    name,
    async open(dir) {
      const keys = loadAuditKeys(join(dir, 'keys'));
      const store = new Store(join(dir, `${name}.db`));
      let commits = 0;
      const append = store.append.bind(store);
      store.append = (records, payloads) => {
        commits++;
        return append(records, payloads);
      };
      const redactor = new Red({ default: 'keep', detectSecrets: true, tools: {} }, keys.hmacMaster);
      const log = await Log.open(store, keys, redactor as never, {
        instance: 'bench',
        checkpointEverySeconds: 30,
        checkpointEveryRecords: 100_000,
        retentionDays: 180,
        failOpen: false,
      });
      return { log, commits: () => commits };
    },
  };
}

const principal = { agent: 'sales-bot', user: 'alice', tenant: 'acme', scopes: ['crm.read', 'crm.write'], bindingKey: 'k', anonymous: false };

function decision(i: number): AuditEvent {
  return {
    kind: 'decision',
    at: new Date(),
    requestId: `req-${i}`,
    sessionId: 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    principal,
    invocation: {
      method: 'tools/call',
      upstream: 'crm',
      target: 'update_contact',
      exposedName: 'crm__update_contact',
      arguments: { tenant: 'acme', contact_id: `ct_${1000 + (i % 500)}`, title: 'VP Procurement' },
    },
    decision: { verdict: 'allow', policies: ['sales-bot-business-hours'], errors: [], policySetHash: 'f'.repeat(64) },
  };
}

function outcome(i: number, ref: unknown): AuditEvent {
  const e = decision(i);
  return {
    ...e,
    kind: 'outcome',
    decision: undefined,
    links: ref ? { decision: ref as never } : {},
    outcome: { status: 'ok', isError: false, latencyMs: 0.2, resultBytes: 120, resultHash: 'a'.repeat(64) },
  };
}

async function measure(
  log: ChainedAuditLog,
  commits: () => number,
  concurrency: number,
  ms: number,
  hops: number,
): Promise<{ rps: number; p50: number; p99: number; cpuUs: number; commitsPerCall: number }> {
  const latencies: number[] = [];
  let n = 0;
  const c0 = commits();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const i = n++;
        const t0 = performance.now();
        const ref = await log.record(decision(i));
        latencies.push(performance.now() - t0);
        // The upstream call, then the answer's way to the client and the client's next request:
        // round trips through the thread pool stand in for them (the next decision never comes
        // in the same turn as the outcome).
        for (let h = 0; h < hops; h++) await stat(here);
        setImmediate(() => void log.record(outcome(i, ref)).catch(() => undefined));
        for (let h = 0; h < hops; h++) await stat(here);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
  return { rps: (n / elapsed) * 1000, p50: q(0.5), p99: q(0.99), cpuUs: (cpu.user + cpu.system) / n, commitsPerCall: (commits() - c0) / n };
}

const here = new URL('.', import.meta.url);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let base: string | undefined;
  let concurrency = [1, 16];
  let rounds = 6;
  let ms = 1000;
  let hops = 2;
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === '--base') base = resolve(value);
    else if (flag === '--concurrency') concurrency = value.split(',').map(Number);
    else if (flag === '--rounds') rounds = Number(value);
    else if (flag === '--ms') ms = Number(value);
    else if (flag === '--hops') hops = Number(value);
    else usage(`unknown option ${flag}`);
  }
  if (concurrency.some((c) => !Number.isInteger(c) || c <= 0) || !Number.isInteger(rounds) || rounds <= 0 || !(ms > 0) || !Number.isInteger(hops) || hops < 0)
    usage('concurrency, rounds, ms and hops must be whole numbers (hops may be 0)');
  const builds = [...(base ? [await loadBuild('A', base)] : []), await loadBuild('B', undefined)];
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-audit-calls-'));
  try {
    const logs = await Promise.all(builds.map(async (b) => ({ build: b, ...(await b.open(dir)) })));
    for (const l of logs) await measure(l.log, l.commits, 16, 500, hops); // warm-up
    const results = new Map<string, Array<Awaited<ReturnType<typeof measure>>>>();
    for (let r = 0; r < rounds; r++) {
      for (const c of concurrency) {
        for (const l of r % 2 ? [...logs].reverse() : logs) {
          const m = await measure(l.log, l.commits, c, ms, hops);
          const key = `${l.build.name}@${c}`;
          results.set(key, [...(results.get(key) ?? []), m]);
        }
      }
    }
    console.log('| build | c | calls/s | decision p50 ms | decision p99 ms | CPU µs/call (all threads) | commits/call |');
    console.log('|---|---|---|---|---|---|---|');
    for (const c of concurrency) {
      for (const l of logs) {
        const ms = results.get(`${l.build.name}@${c}`)!;
        const med = (f: (m: (typeof ms)[number]) => number): number => median(ms.map(f));
        console.log(
          `| ${l.build.name} | ${c} | ${Math.round(med((m) => m.rps))} | ${med((m) => m.p50).toFixed(3)} | ${med((m) => m.p99).toFixed(3)} | ${Math.round(med((m) => m.cpuUs))} (${Math.round(Math.min(...ms.map((m) => m.cpuUs)))}–${Math.round(Math.max(...ms.map((m) => m.cpuUs)))}) | ${med((m) => m.commitsPerCall).toFixed(2)} |`,
        );
      }
    }
    for (const l of logs) await l.log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`audit-calls: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
