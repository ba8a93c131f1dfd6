import type { GatewayOptions } from '../../src/gateway.js';

/**
 * The stages the "full pipeline" scenarios switch on, in request-path order (DESIGN.md).
 *
 * Adding a stage to the benchmark is one entry here: set `gateway` (how the gateway process
 * builds it — it runs inside that process) and, when the client must bring something (a bearer
 * token, a client certificate), `client`. The full-pipeline scenarios pick up every stage that
 * has a `gateway`; while none has, they are the pass-through scenarios and the report says so.
 */
export interface PipelineStage {
  name: string;
  /** What the full pipeline will use for this stage (the wording). */
  planned: string;
  /** Options for startGateway, built inside the gateway process. Absent: not built yet. */
  gateway?: () => Promise<Partial<GatewayOptions>>;
  /** What the load driver must send for this stage: extra headers per request. */
  client?: () => Promise<{ headers?: Record<string, string> }>;
}

export const PIPELINE_STAGES: PipelineStage[] = [
  { name: 'mtls', planned: 'mutual TLS, identity from the client certificate' },
  { name: 'identity', planned: 'JWT bearer token verified against a JWKS' },
  { name: 'policy', planned: 'Cedar with the example policy set' },
  { name: 'credentials', planned: 'per-call token minting' },
  { name: 'audit', planned: 'durable audit append (fail closed)' },
];

/** Stages that exist today and so run in the full-pipeline scenarios. */
export function builtStages(): PipelineStage[] {
  return PIPELINE_STAGES.filter((s) => s.gateway !== undefined);
}

/** Gateway options for the named stages; unknown or unbuilt names are an error, never skipped. */
export async function gatewayOptionsFor(names: string[]): Promise<Partial<GatewayOptions>> {
  let options: Partial<GatewayOptions> = {};
  for (const name of names) {
    const stage = PIPELINE_STAGES.find((s) => s.name === name);
    if (!stage?.gateway) throw new Error(`pipeline stage "${name}" is ${stage ? 'not built yet' : 'unknown'}`);
    options = { ...options, ...(await stage.gateway()) };
  }
  return options;
}

/** Headers the driver sends for the named stages. */
export async function clientHeadersFor(names: string[]): Promise<Record<string, string>> {
  let headers: Record<string, string> = {};
  for (const name of names) {
    const stage = PIPELINE_STAGES.find((s) => s.name === name);
    if (stage?.client) headers = { ...headers, ...((await stage.client()).headers ?? {}) };
  }
  return headers;
}
