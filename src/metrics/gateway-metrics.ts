import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallMetricsSink, CallProbe } from './call-probe.js';
import { type CallOutcome, type CallVerdict, STAGES, type StageName } from './names.js';

/** What the gauges read when Prometheus scrapes (nothing on the request path keeps them). */
export interface MetricSources {
  sessionsOpen?(): number;
  streamsOpen?(): number;
  auditQueueDepth?(): number;
  /** Seconds since the last signed checkpoint; undefined before the first. */
  checkpointAgeSeconds?(): number | undefined;
  upstreams?(): Iterable<{ id: string; up: boolean }>;
  shadowDisagreements?(): number;
  /** Trace context values dropped as malformed, per field, since the start. */
  traceContextDropped?(): Readonly<Record<string, number>>;
}

const VERDICTS: readonly CallVerdict[] = ['allow', 'deny', 'none'];
const OUTCOMES: readonly CallOutcome[] = ['ok', 'error', 'tool_error', 'refused', 'not_forwarded'];
/** Fine buckets for steps that take microseconds to milliseconds. */
const STAGE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The MCP semantic conventions' advice for mcp.server.operation.duration. */
const OPERATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };

/**
 * The gateway's Prometheus metrics, in a registry of its own (never prom-client's global one).
 * The request path reaches label children through maps it fills once per upstream, item, method
 * and stage: a call costs two map lookups, an array index and a few additions, no label hashing.
 */
export class GatewayMetrics implements CallMetricsSink {
  readonly registry = new Registry();
  private sources: MetricSources = {};
  private readonly calls: Counter<'upstream' | 'tool' | 'verdict' | 'outcome'>;
  private readonly operation: Histogram<'mcp_method_name' | 'error_type'>;
  private readonly stages = new Map<StageName, Observe>();
  private readonly authFailures: Counter<'reason'>;
  private readonly auditCommit: Observe;
  private readonly reloads: Counter<'result'>;
  private readonly limitRefusals: Counter<'limit'>;
  private readonly callChildren = new Map<string, Map<string, Inc[]>>();
  private readonly operationChildren = new Map<string, Observe[]>();

  constructor() {
    const registers = [this.registry];
    this.calls = new Counter({
      name: 'toolgate_calls_total',
      help: 'Routed calls by upstream, catalog item, policy verdict and outcome.',
      labelNames: ['upstream', 'tool', 'verdict', 'outcome'],
      registers,
    });
    this.operation = new Histogram({
      name: 'mcp_server_operation_duration_seconds',
      help: 'Duration of an MCP request the gateway served (mcp.server.operation.duration).',
      labelNames: ['mcp_method_name', 'error_type'],
      buckets: OPERATION_BUCKETS,
      registers,
    });
    const stage = new Histogram({ name: 'toolgate_stage_duration_seconds', help: 'Duration of one step of a call.', labelNames: ['stage'], buckets: STAGE_BUCKETS, registers });
    for (const s of STAGES) this.stages.set(s, stage.labels(s));
    this.authFailures = new Counter({ name: 'toolgate_auth_failures_total', help: 'Refused authentications by error code.', labelNames: ['reason'], registers });
    this.auditCommit = new Histogram({ name: 'toolgate_audit_commit_seconds', help: 'Duration of one audit group commit (store write).', buckets: STAGE_BUCKETS, registers });
    this.reloads = new Counter({ name: 'toolgate_policy_reloads_total', help: 'Policy reloads by result (ok, refused).', labelNames: ['result'], registers });
    this.limitRefusals = new Counter({ name: 'toolgate_limit_refusals_total', help: 'Requests refused by a per-principal or gateway limit.', labelNames: ['limit'], registers });
    const sources = () => this.sources;
    new Gauge({
      name: 'toolgate_sessions_open',
      help: 'Open MCP sessions (2025 eras).',
      registers,
      collect() {
        this.set(sources().sessionsOpen?.() ?? 0);
      },
    });
    new Gauge({
      name: 'toolgate_streams_open',
      help: 'Open response streams (SSE), both eras.',
      registers,
      collect() {
        this.set(sources().streamsOpen?.() ?? 0);
      },
    });
    new Gauge({
      name: 'toolgate_audit_queue_depth',
      help: 'Audit records waiting for a commit.',
      registers,
      collect() {
        this.set(sources().auditQueueDepth?.() ?? 0);
      },
    });
    new Gauge({
      name: 'toolgate_audit_checkpoint_age_seconds',
      help: 'Seconds since the audit chain was last checkpointed (signed).',
      registers,
      collect() {
        const age = sources().checkpointAgeSeconds?.();
        if (age !== undefined) this.set(age);
      },
    });
    new Gauge({
      name: 'toolgate_upstream_up',
      help: '1 when the upstream is ready, else 0.',
      labelNames: ['upstream'],
      registers,
      collect() {
        for (const u of sources().upstreams?.() ?? []) this.set({ upstream: u.id }, u.up ? 1 : 0);
      },
    });
    new Counter({
      name: 'toolgate_trace_context_dropped_total',
      help: 'traceparent, tracestate, baggage or instruction values dropped as malformed, by field.',
      labelNames: ['field'],
      registers,
      collect() {
        const dropped = sources().traceContextDropped?.() ?? {};
        this.reset();
        for (const [field, n] of Object.entries(dropped)) this.inc({ field }, n);
      },
    });
    new Counter({
      name: 'toolgate_policy_shadow_disagreements_total',
      help: "Calls where the shadow policy set's verdict differed from the enforced one.",
      registers,
      collect() {
        const n = sources().shadowDisagreements?.() ?? 0;
        this.reset();
        this.inc(n);
      },
    });
  }

  /** What the gauges read; set once the parts they read exist. */
  observe(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  stage(stage: StageName, seconds: number): void {
    this.stages.get(stage)!.observe(seconds);
  }

  finish(probe: CallProbe, seconds: number): void {
    this.callChild(probe.upstream, probe.target, probe.verdict, probe.outcome).inc();
    let op = this.operationChildren.get(probe.method);
    if (!op) {
      op = OUTCOMES.map((o) => this.operation.labels(probe.method, o === 'ok' ? '' : o));
      this.operationChildren.set(probe.method, op);
    }
    op[OUTCOMES.indexOf(probe.outcome)]!.observe(seconds);
  }

  authFailure(code: string): void {
    this.authFailures.labels(code).inc();
  }

  auditCommitted(seconds: number): void {
    this.auditCommit.observe(seconds);
  }

  policyReloaded(ok: boolean): void {
    this.reloads.labels(ok ? 'ok' : 'refused').inc();
  }

  limitRefused(limit: string): void {
    this.limitRefusals.labels(limit).inc();
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private callChild(upstream: string, tool: string, verdict: CallVerdict, outcome: CallOutcome): Inc {
    let byTool = this.callChildren.get(upstream);
    if (!byTool) {
      byTool = new Map();
      this.callChildren.set(upstream, byTool);
    }
    let children = byTool.get(tool);
    if (!children) {
      children = [];
      for (const v of VERDICTS) {
        for (const o of OUTCOMES) {
          // Created at zero, so a rate starts from the first call rather than the second.
          const child = this.calls.labels(upstream, tool, v, o);
          child.inc(0);
          children.push(child);
        }
      }
      byTool.set(tool, children);
    }
    return children[VERDICTS.indexOf(verdict) * OUTCOMES.length + OUTCOMES.indexOf(outcome)]!;
  }
}
