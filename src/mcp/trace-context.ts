import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../pipeline/stages.js';
import { isObject } from '../protocol/json.js';
import type { JsonRpcRequest } from '../protocol/jsonrpc.js';
import { newTraceContextDrops, readTraceContext, type TraceContextDrops } from '../protocol/trace-context.js';

/**
 * Trace context values dropped as malformed since the gateway started, per field (traceparent,
 * tracestate, baggage, instruction), over both endpoints: for whoever reports on the gateway.
 */
export const traceContextDropped: TraceContextDrops = newTraceContextDrops();

/**
 * The trace fields of one request's context (`traceparent`, `tracestate`, `instruction`), from its
 * headers and its `params._meta`: the `_meta` wins in 2026-07-28, the headers in the 2025 eras.
 * Written onto `ctx`; a request that carries none of it costs a few property reads.
 */
export function addTraceContext(ctx: RequestContext, req: IncomingMessage, message: JsonRpcRequest, modern: boolean, instructionKeys: readonly string[]): void {
  const meta = isObject(message.params?._meta) ? (message.params._meta as Record<string, unknown>) : undefined;
  const h = req.headers;
  if (meta === undefined && h.traceparent === undefined && h.baggage === undefined) return;
  const found = readTraceContext({ headers: h, meta, preferMeta: modern }, instructionKeys, traceContextDropped);
  if (found.traceparent !== undefined) ctx.traceparent = found.traceparent;
  if (found.tracestate !== undefined) ctx.tracestate = found.tracestate;
  if (found.instruction !== undefined) ctx.instruction = found.instruction;
}
