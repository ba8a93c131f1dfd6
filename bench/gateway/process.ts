/**
 * toolgate as its own process for the benchmark, so its RSS and CPU are its own and a CPU
 * profile covers only it. Started by launch.ts with a JSON spec as argv[2]:
 * `{ "yaml": "...config...", "stages": ["identity", …] }`.
 *
 * IPC requests and their answers:
 * - sent unasked once listening: `{ type: 'ready', url }`
 * - `{ type: 'stats', collect? }` → `{ type: 'stats', stats }` (session count, heap, RSS); with
 *   `collect` and the process started with --expose-gc, after a full garbage collection, so live
 *   memory can be told from garbage not yet collected
 * - `{ type: 'profile-start' }` → `{ type: 'profile-started' }`: the V8 sampling profiler (what
 *   `node --cpu-prof` runs) started through the inspector, so the profile covers the measured
 *   window only, not start-up and module compilation
 * - `{ type: 'profile-stop', path }` → `{ type: 'profile-written', path }` (.cpuprofile format)
 * - `{ type: 'stop' }`: closes the gateway and exits 0
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { parseConfig } from '../../src/config/load.js';
import { startGateway } from '../../src/gateway.js';
import { stderrLogger } from '../../src/log.js';
import { MemoryAuditSink } from '../../src/pipeline/pass-through.js';
import { gatewayOptionsFor } from './pipeline-stages.js';

export interface GatewaySpec {
  yaml: string;
  stages: string[];
  /** The gateway's state folder (audit log and keys); launch.ts makes a temporary one. */
  home?: string;
  /** An in-memory audit sink instead of the durable log: only for the diagnostic scenario. */
  auditInMemory?: boolean;
}

export type GatewayStats = { sessions: number; heapUsedMb: number; rssMb: number };

export type GatewayRequest = { type: 'stats'; collect?: boolean } | { type: 'profile-start' } | { type: 'profile-stop'; path: string } | { type: 'stop' };

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))));
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as GatewaySpec;
  const options = await gatewayOptionsFor(spec.stages);
  // BENCH_AUDIT=memory: an in-memory audit sink instead of the durable log, to tell the log's
  // share of a call's time from the rest (never in a reported run).
  const audit = process.env.BENCH_AUDIT === 'memory' || spec.auditInMemory ? { audit: new MemoryAuditSink(0) } : {}; // keeps nothing
  const gateway = await startGateway(parseConfig(spec.yaml, 'bench gateway config'), {
    logger: stderrLogger('warn'),
    ...(spec.home ? { home: spec.home } : {}),
    ...options,
    ...audit,
  });
  let profiler: Session | undefined;
  const reply = (m: object): void => void process.send?.(m);

  process.on('message', (m: GatewayRequest) => {
    void (async () => {
      switch (m.type) {
        case 'stats': {
          const gc = (globalThis as { gc?: () => void }).gc;
          if (m.collect && gc) gc();
          const memory = process.memoryUsage();
          const stats: GatewayStats = { sessions: gateway.sessions.size, heapUsedMb: memory.heapUsed / 2 ** 20, rssMb: memory.rss / 2 ** 20 };
          return reply({ type: 'stats', stats });
        }
        case 'profile-start':
          profiler = new Session();
          profiler.connect();
          await post(profiler, 'Profiler.enable');
          await post(profiler, 'Profiler.start');
          return reply({ type: 'profile-started' });
        case 'profile-stop': {
          if (!profiler) throw new Error('profile-stop without profile-start');
          const { profile } = await post<{ profile: object }>(profiler, 'Profiler.stop');
          profiler.disconnect();
          profiler = undefined;
          writeFileSync(m.path, JSON.stringify(profile));
          return reply({ type: 'profile-written', path: m.path });
        }
        case 'stop':
          await gateway.close();
          process.exit(0);
      }
    })().catch((err: unknown) => {
      process.stderr.write(`bench gateway: ${m.type} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      reply({ type: 'failed', request: m.type });
    });
  });
  process.on('SIGTERM', () => void gateway.close().finally(() => process.exit(0)));
  reply({ type: 'ready', url: gateway.url });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
