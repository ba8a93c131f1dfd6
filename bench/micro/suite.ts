import { catalogRebuild, catalogResolve } from './catalog.js';
import type { MicroFigure } from './measure.js';
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
 * Every stage of the request path with its micro-benchmark. The four stages that do not exist
 * yet have a named slot: when one lands, give it a `run` and its figure appears in the report.
 */
export const MICRO_BENCHMARKS: MicroBenchmark[] = [
  { stage: 'mcp', name: 'JSON-RPC: decode + JSON.parse + classify a tools/call body', hotPath: true, run: parseAndClassify },
  { stage: 'mcp', name: 'JSON-RPC: classify an already parsed message', hotPath: true, run: classifyOnly },
  { stage: 'identity', name: 'token verification (JWT against a cached JWKS)', hotPath: true, planned: 'verify signature, issuer, audience, expiry of a bearer token' },
  { stage: 'catalog', name: 'catalog: resolve an exposed tool name (50 upstreams × 200 tools)', hotPath: true, run: (ms) => catalogResolve(50, 200, ms) },
  { stage: 'catalog', name: 'catalog: resolve an exposed tool name (1 upstream × 10 tools)', hotPath: true, run: (ms) => catalogResolve(1, 10, ms) },
  { stage: 'catalog', name: 'catalog: rebuild after one list change (50 upstreams × 200 tools)', hotPath: false, run: (ms) => catalogRebuild(50, 200, ms) },
  { stage: 'policy', name: 'policy decision (Cedar, example policy set)', hotPath: true, planned: 'one authorization decision with the context built from principal, tool and arguments' },
  { stage: 'credentials', name: 'per-call credential minting', hotPath: true, planned: 'sign one per-call token (Ed25519) with the arguments hash' },
  { stage: 'audit', name: 'audit append (durable)', hotPath: true, planned: 'canonicalise, hash, chain and durably store one decision record' },
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
