/*
 * One call to an upstream, from what the gateway sends to what it hands back: the request as the
 * upstream sees it (the gateway's id, the gateway's progress token, the 2026-07-28 envelope), the
 * record kept while it is in flight, and the answer in the shape the rest of the gateway uses.
 * The UpstreamClient (client.ts) owns the table of these records and the sessions they
 * are sent on.
 */

import { ToolgateError } from '../errors.js';
import { ErrorCode, errorResponse, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { classifyResult, unmarkResult, withRequestEnvelope } from '../protocol/modern.js';
import { withTraceMeta } from '../protocol/trace-context.js';
import { eraHeaders, GATEWAY_CLIENT_INFO, MODERN_CLIENT_CAPABILITIES } from './handshake.js';
import type { Flow, UpstreamTransport } from './transport/transport.js';

/** Where an upstream's messages about one forwarded call go (the downstream request's stream). */
export interface CallSink {
  /** A notification about this call: progress (token already mapped back), logging, … */
  notify(notification: JsonRpcNotification): void;
  /** A server→client request made while serving this call; resolves with the client's answer. */
  request(request: JsonRpcRequest, signal: AbortSignal): Promise<JsonRpcResponse>;
  /** Backpressure from the downstream stream (transport.ts `SendOptions.flow`). */
  flow?: Flow;
}

export interface ForwardOptions {
  sink?: CallSink;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A request sent upstream under the gateway's id and not answered yet. */
export interface PendingCall {
  resolve: (r: JsonRpcResponse) => void;
  /** The transport (session) it was last sent on; undefined while it waits to be sent again. */
  transport?: UpstreamTransport;
  /** That transport's send() resolved: the upstream has it, and may be running it. */
  accepted?: boolean;
  sink?: CallSink;
  /** The client's own progress token, restored on every progress notification. */
  clientProgressToken?: string | number;
  timer?: NodeJS.Timeout;
  timeoutMs: number;
  method: string;
  /** 2026-07-28: closing the request's stream is the cancellation. */
  stream?: AbortController;
}

/** What the handshake settled with the upstream, as far as each request depends on it. */
export interface CallContext {
  era: 'legacy' | 'modern';
  protocolVersion: string;
  /** The upstream's `request_ms`, for calls that do not set their own timeout. */
  requestMs: number;
}

/** A client's request as the upstream is to receive it, and the record to keep until it is answered. */
export interface OutgoingCall {
  call: PendingCall;
  request: JsonRpcRequest;
  headers?: Record<string, string>;
}

/**
 * Maps a client's request onto the upstream under the gateway's `id`. The record's `resolve` is a
 * placeholder: the caller sets it when it starts waiting.
 */
export function outgoingCall(request: JsonRpcRequest, id: number, opts: ForwardOptions, context: CallContext): OutgoingCall {
  let params = request.params ? { ...request.params } : undefined;
  const meta = params?._meta as Record<string, unknown> | undefined;
  const call: PendingCall = {
    resolve: () => undefined,
    sink: opts.sink,
    timeoutMs: opts.timeoutMs ?? context.requestMs,
    method: request.method,
  };
  if (params && meta && meta.progressToken !== undefined) {
    call.clientProgressToken = meta.progressToken as string | number;
    // The upstream sees our id as the token: unique per upstream, so concurrent calls never cross.
    params._meta = { ...meta, progressToken: id };
  }
  // Trace context: never the client's own keys (unvalidated); to a 2026-07-28 upstream, what the
  // gateway passes on (its headers' values), in `_meta` as that era carries it.
  const traceMeta = withTraceMeta(params?._meta as Record<string, unknown> | undefined, context.era === 'modern' ? opts.headers : undefined);
  if (traceMeta !== params?._meta) params = { ...params, _meta: traceMeta };
  let outgoing: JsonRpcRequest = { jsonrpc: '2.0', id, method: request.method, ...(params ? { params } : {}) };
  let headers = opts.headers;
  if (context.era === 'modern') {
    // Stateless: every request carries what initialize used to settle. The log level asks for
    // everything; each caller filters to its own level.
    outgoing = withRequestEnvelope(outgoing, {
      protocolVersion: context.protocolVersion,
      clientCapabilities: MODERN_CLIENT_CAPABILITIES,
      clientInfo: GATEWAY_CLIENT_INFO,
      logLevel: 'debug',
    });
    headers = { ...eraHeaders(outgoing), ...opts.headers };
    call.stream = new AbortController();
  }
  return { call, request: outgoing, headers };
}

/**
 * A 2026-07-28 answer in the shape the rest of the gateway uses (the 2025 one). An
 * input_required result asks the gateway for client input it does not relay to this era yet:
 * the call ends with an error that says so rather than a result the client cannot use.
 */
export function fromModern(response: JsonRpcResponse, upstream: string): JsonRpcResponse {
  if (!('result' in response)) return response;
  const kind = classifyResult(response.result);
  if (kind.kind === 'input_required') {
    return errorResponse(
      response.id,
      ErrorCode.UpstreamUnavailable,
      `upstream ${upstream} asked for client input (input_required), which toolgate does not relay from 2026-07-28 upstreams yet`,
      { upstream },
    );
  }
  const plain = unmarkResult(response.result);
  if (!plain.ok) return errorResponse(response.id, ErrorCode.UpstreamUnavailable, `upstream ${upstream} sent an invalid result: ${plain.reason}`, { upstream });
  return { ...response, result: plain.result };
}

/** A request the gateway itself made (UpstreamClient.call) was answered with a JSON-RPC error. */
export class UpstreamCallError extends ToolgateError {
  constructor(
    readonly upstream: string,
    readonly method: string,
    readonly rpcCode: number,
    message: string,
  ) {
    super('ERR_UPSTREAM_CALL', `upstream ${upstream} answered ${method} with error ${rpcCode}: ${message}`);
  }
}
