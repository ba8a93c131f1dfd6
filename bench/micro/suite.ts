import { catalogRebuild, catalogResolve } from './catalog.js';
import type { MicroFigure } from './measure.js';
import { mintEd25519 } from './minting-slot.js';
import { channelJsonSend, classifyOnly, parseAndClassify } from './protocol.js';
import { forwardRoundTrip } from './upstream-client.js';

/** One micro-benchmark result: a figure, or a stage that does not exist yet. */
export type MicroResult = { stage: string; name: string; hot_path: boolean } & ({ status: 'measured'; figure: MicroFigure } | { status: 'not built yet'; planned: string });

interface MicroBenchmark {
  stage: string;
  name: string;
  /** Runs on every tools/call (false: on list changes or start-up only). */
  hotPath: boolean;
  run?: (ms: number) => MicroFigure | Promise<MicroFigure>;
  /** For a stage not built yet: what will be measured here. */
  planned?: string;
}

/**
 * Every stage of the request path with its micro-benchmark. A slot without `run` is measured only
 * by its standalone script (identity.ts, policy.ts, audit.ts: they set up servers, child
 * processes or a database); give it a `run` and its figure appears in the report.
 */
export const MICRO_BENCHMARKS: MicroBenchmark[] = [
  { stage: 'mcp', name: 'JSON-RPC: decode + JSON.parse + classify a tools/call body', hotPath: true, run: parseAndClassify },
  { stage: 'mcp', name: 'JSON-RPC: classify an already parsed message', hotPath: true, run: classifyOnly },
  {
    stage: 'identity',
    name: 'token verification (JWT against a cached JWKS)',
    hotPath: true,
    planned: 'run `micro/identity.ts` (cache hit and first verification, RS256/ES256/EdDSA, per-call p99)',
  },
  { stage: 'catalog', name: 'catalog: resolve an exposed tool name (50 upstreams × 200 tools)', hotPath: true, run: (ms) => catalogResolve(50, 200, ms) },
  { stage: 'catalog', name: 'catalog: resolve an exposed tool name (1 upstream × 10 tools)', hotPath: true, run: (ms) => catalogResolve(1, 10, ms) },
  { stage: 'catalog', name: 'catalog: rebuild after one list change (50 upstreams × 200 tools)', hotPath: false, run: (ms) => catalogRebuild(50, 200, ms) },
  {
    stage: 'policy',
    name: 'policy decision (Cedar, example policy set)',
    hotPath: true,
    planned: 'run `micro/policy.ts` (10/50/200 policies, one child process per configuration)',
  },
  { stage: 'credentials', name: 'per-call credential minting (Ed25519, arguments hash; minting.ts has percentiles and baselines)', hotPath: true, run: mintEd25519 },
  { stage: 'audit', name: 'audit append (durable)', hotPath: true, planned: 'run `micro/audit.ts` (append rate and latency against SQLite)' },
  { stage: 'upstream', name: 'UpstreamClient.forward round trip with id mapping (in-process transport)', hotPath: true, run: forwardRoundTrip },
  { stage: 'mcp', name: 'MessageChannel: final response sent as JSON (stand-in response object)', hotPath: true, run: channelJsonSend },
];

export async function runMicroBenchmarks(ms: number, log: (line: string) => void): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  for (const b of MICRO_BENCHMARKS) {
    const head = { stage: b.stage, name: b.name, hot_path: b.hotPath };
    if (!b.run) {
      results.push({ ...head, status: 'not built yet', planned: b.planned ?? '' });
      continue;
    }
    const figure = await b.run(ms);
    results.push({ ...head, status: 'measured', figure });
    log(`micro: ${b.name}: ${figure.ns_per_op} ns/op`);
  }
  return results;
}
