import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRACE_DEFAULTS } from '../config/trace.js';
import type { Principal, RequestContext } from '../pipeline/stages.js';
import { LEGACY_VERSIONS } from '../protocol/eras.js';
import {
  ErrorCode,
  errorResponse,
  isNotification,
  isRequest,
  isResponse,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.js';
import { LOG_LEVELS, type LoggingLevel } from '../protocol/log-levels.js';
import {
  checkModernHeaders,
  checkProtocolVersion,
  discoverResult,
  httpStatusForModernError,
  MODERN_PROTOCOL_VERSION,
  markResult,
  REMOVED_METHODS,
  type RequestEnvelope,
  readRequestEnvelope,
  withoutRequestEnvelope,
} from '../protocol/modern.js';
import type { Caller } from './caller.js';
import { MessageChannel } from './channel.js';
import { reply } from './http-reply.js';
import { limitError, type PrincipalLimits } from './principal-limits.js';
import type { Router } from './router.js';
import { addTraceContext } from './trace-context.js';

export interface StatelessOptions {
  serverInfo: { name: string; version: string };
  capabilities: Record<string, unknown>;
  instructions?: string;
  /** Calls and streams per principal, and stream buffers (`limits:`); absent: no caps. */
  limits?: PrincipalLimits;
  /** The baggage / `_meta` keys recorded as a call's instruction (`trace.instruction_keys`); default TRACE_DEFAULTS. */
  instructionKeys?: readonly string[];
}

/** Every version the endpoint serves, for server/discover and -32022 answers. */
export const SERVED_VERSIONS = [MODERN_PROTOCOL_VERSION, ...LEGACY_VERSIONS];

/**
 * One 2026-07-28 request: no session, everything the gateway needs travels in the request's
 * `_meta` envelope and is checked against the headers before anything trusts either.
 * Order of checks (docs/protocol-2026-07-28.md): envelope, headers, version, method.
 */
export class StatelessEndpoint {
  constructor(
    private readonly dispatcher: Router,
    private readonly options: StatelessOptions,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, posted: JsonRpcMessage, principal: Principal): Promise<void> {
    if (!isRequest(posted)) {
      if (isNotification(posted)) return void res.writeHead(202).end();
      return reply(res, 400, errorResponse(null, ErrorCode.InvalidRequest, 'Invalid Request: 2026-07-28 has no server-to-client requests to answer'));
    }
    const message: JsonRpcRequest = posted;
    const envelope = readRequestEnvelope(message);
    if ('error' in envelope) return reply(res, envelope.status, errorResponse(message.id, envelope.error.code, envelope.error.message, envelope.error.data));
    const headers = checkModernHeaders(req.headers, message);
    if (!headers.ok) return reply(res, headers.status, errorResponse(message.id, headers.error.code, headers.error.message, headers.error.data));
    const version = checkProtocolVersion(envelope.protocolVersion, [MODERN_PROTOCOL_VERSION]);
    if (!version.ok) {
      return reply(res, version.status, errorResponse(message.id, version.error.code, version.error.message, { ...(version.error.data as object), supported: SERVED_VERSIONS }));
    }
    if (REMOVED_METHODS.has(message.method)) {
      return reply(
        res,
        httpStatusForModernError(ErrorCode.MethodNotFound),
        errorResponse(message.id, ErrorCode.MethodNotFound, `Method not found: ${message.method} does not exist in ${MODERN_PROTOCOL_VERSION}`),
      );
    }
    if (message.method === 'server/discover') {
      return reply(res, 200, {
        jsonrpc: '2.0',
        id: message.id,
        result: discoverResult({
          supportedVersions: SERVED_VERSIONS,
          capabilities: this.options.capabilities,
          serverInfo: this.options.serverInfo,
          ...(this.options.instructions ? { instructions: this.options.instructions } : {}),
        }),
      });
    }

    const limits = this.options.limits;
    const usage = limits?.of(principal.bindingKey);
    if (limits && usage && !limits.startCall(usage, principal, message.method, undefined)) {
      // Answered like any JSON-RPC error (HTTP 200), so a client's SDK shows the message.
      return reply(res, 200, limitError(message.id, 'calls_per_principal', limits.config.callsPerPrincipal, 'this principal has too many requests in flight'));
    }
    const caller = new StatelessCaller(principal, envelope, this.options.serverInfo);
    const request = withoutRequestEnvelope(message);
    // In 2026-07-28, closing the request's stream is how a client cancels.
    const abort = new AbortController();
    const channel = new MessageChannel(`s-${randomUUID().slice(0, 8)}`, res, {
      isFinal: (m) => isResponse(m) && m.id === message.id,
      priming: false,
      requestId: message.id,
      abort,
      method: message.method,
      caller,
      limits,
      usage,
    });
    channel.onDisconnect = () => abort.abort('the client closed the stream');
    const ctx: RequestContext = { requestId: randomUUID(), protocolVersion: MODERN_PROTOCOL_VERSION, receivedAt: new Date() };
    // From the message as the client sent it: the envelope is taken off `request`, trace keys are not.
    addTraceContext(ctx, req, message, true, this.options.instructionKeys ?? TRACE_DEFAULTS.instructionKeys);
    try {
      await this.dispatcher.handle(caller, request, channel, ctx, abort.signal);
    } finally {
      if (limits && usage) limits.endCall(usage);
    }
  }
}

/** The caller of one stateless request: capabilities and log level come from its envelope. */
class StatelessCaller implements Caller {
  readonly protocolVersion = MODERN_PROTOCOL_VERSION;
  readonly clientCapabilities: Record<string, unknown>;
  private readonly logLevel: number;

  constructor(
    readonly principal: Principal,
    envelope: RequestEnvelope,
    private readonly serverInfo: { name: string; version: string },
  ) {
    this.clientCapabilities = envelope.clientCapabilities;
    // Without a logLevel in its envelope a request gets no log messages at all.
    this.logLevel = envelope.logLevel === undefined ? Infinity : LOG_LEVELS.indexOf(envelope.logLevel);
  }

  wants(n: JsonRpcNotification): boolean {
    if (n.method !== 'notifications/message') return true;
    const level = LOG_LEVELS.indexOf(n.params?.level as LoggingLevel);
    return level >= this.logLevel;
  }

  setLogLevel(): boolean {
    return false;
  }

  /**
   * 2026-07-28 has no server→client requests: input is asked for with an input_required result
   * and a retry (MRTR). Translating a 2025 upstream's mid-call request into that round trip
   * needs the call parked across requests; until that lands the upstream is told the client
   * cannot answer, so the call ends instead of hanging.
   */
  requestClient(_channel: MessageChannel, request: JsonRpcRequest): Promise<JsonRpcResponse> {
    return Promise.resolve(errorResponse(request.id, ErrorCode.MethodNotFound, `toolgate does not yet relay ${request.method} to ${MODERN_PROTOCOL_VERSION} clients`));
  }

  present(method: string, response: JsonRpcResponse): JsonRpcResponse {
    if (!('result' in response)) return response;
    return { ...response, result: markResult(response.result, { method, cacheScope: 'private', serverInfo: this.serverInfo }) };
  }
}
