import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRACE_DEFAULTS } from '../config/trace.js';
import { type IdentityStage, isRejection, type Principal, type RequestContext } from '../pipeline/stages.js';
import { isLegacyVersion, negotiateLegacyVersion } from '../protocol/eras.js';
import { objectOr } from '../protocol/json.js';
import { classifyMessage, ErrorCode, errorResponse, isNotification, isRequest, isResponse, type JsonRpcNotification, type JsonRpcRequest } from '../protocol/jsonrpc.js';
import { classifyClientEra } from '../protocol/modern.js';
import { BodyTooLargeError, readBody, refuseUnread } from './body.js';
import { LEGACY_CAPABILITIES } from './capabilities.js';
import { MessageChannel } from './channel.js';
import { reply } from './http-reply.js';
import { limitError, type PrincipalLimits } from './principal-limits.js';
import type { Router } from './router.js';
import { ClientSession, requestKey } from './session.js';
import type { SessionStore } from './session-store.js';
import type { StatelessEndpoint } from './stateless.js';
import { addTraceContext } from './trace-context.js';

export interface EndpointOptions {
  maxBodyBytes: number;
  /** Body bytes of an unauthenticated request read (and discarded) before its connection is closed. */
  unauthenticatedBodyBytes: number;
  serverInfo: { name: string; version: string };
  instructions?: string;
  onSessionClosed?: (session: ClientSession) => void;
  /** A session was opened (initialize answered): for the audit log's session-start record. */
  onSessionOpened?: (session: ClientSession) => void;
  /** A session id presented by a principal other than the one that opened it (answered 404). */
  onForeignSession?: (session: ClientSession, presentedBy: Principal) => void;
  /** Sessions, calls and streams per principal, and stream buffers (`limits:`); absent: no caps. */
  limits?: PrincipalLimits;
  /** The baggage / `_meta` keys recorded as a call's instruction (`trace.instruction_keys`); default TRACE_DEFAULTS. */
  instructionKeys?: readonly string[];
}

/**
 * The Streamable HTTP endpoint (MCP 2025-06-18 / 2025-11-25): POST carries messages, GET opens
 * the standalone stream (or resumes one with Last-Event-ID), DELETE ends the session.
 * Everything is checked in this order, and the first failure answers: method, headers,
 * identity, body size, JSON, message shape, era, session. Identity comes from the headers alone,
 * so an unauthenticated request is refused before its body is read: no client without a valid
 * credential makes the gateway buffer or parse anything.
 */
export class McpEndpoint {
  constructor(
    private readonly sessions: SessionStore,
    private readonly dispatcher: Router,
    private readonly identity: IdentityStage,
    private readonly options: EndpointOptions,
    private readonly stateless: StatelessEndpoint,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (req.method) {
      case 'POST':
        return this.post(req, res);
      case 'GET':
        return this.get(req, res);
      case 'DELETE':
        return this.delete(req, res);
      default:
        res.writeHead(405, { allow: 'GET, POST, DELETE', 'content-type': 'application/json' });
        res.end(JSON.stringify(errorResponse(null, ErrorCode.InvalidRequest, `Method ${req.method} not allowed`)));
    }
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const accept = String(req.headers.accept ?? '');
    if (!acceptsBoth(accept)) {
      return reply(res, 406, errorResponse(null, ErrorCode.InvalidRequest, 'Not Acceptable: the client must accept both application/json and text/event-stream'));
    }
    const contentType = String(req.headers['content-type'] ?? '');
    if (!contentType.toLowerCase().startsWith('application/json')) {
      return reply(res, 415, errorResponse(null, ErrorCode.InvalidRequest, 'Unsupported Media Type: Content-Type must be application/json'));
    }
    // Identity does not depend on the era (which the body decides), so both eras authenticate here.
    const principal = await this.identity.authenticate(req);
    if (isRejection(principal)) {
      const close = refuseUnread(req, this.options.unauthenticatedBodyBytes);
      return reply(
        res,
        principal.status,
        errorResponse(null, principal.rpcError?.code ?? ErrorCode.InvalidRequest, principal.rpcError?.message ?? 'Unauthorized'),
        close ? { ...principal.headers, connection: 'close' } : principal.headers,
      );
    }

    let body: Buffer;
    try {
      body = await readBody(req, this.options.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        return reply(res, 413, errorResponse(null, ErrorCode.InvalidRequest, `Payload Too Large: the limit is ${err.limit} bytes`), { connection: 'close' });
      }
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return reply(res, 400, errorResponse(null, ErrorCode.ParseError, `Parse error: ${(err as Error).message}`));
    }
    if (Array.isArray(parsed)) {
      return reply(res, 400, errorResponse(null, ErrorCode.InvalidRequest, 'Invalid Request: JSON-RPC batches are not supported in protocol 2025-06-18 and later'));
    }
    const message = classifyMessage(parsed);
    if ('invalid' in message) {
      const id = (parsed as { id?: unknown })?.id;
      return reply(res, 400, errorResponse(typeof id === 'string' || typeof id === 'number' ? id : null, ErrorCode.InvalidRequest, `Invalid Request: ${message.invalid}`));
    }

    // The body decides the era; a modern header on a legacy-shaped body is refused, not guessed.
    const era = classifyClientEra(message, req.headers);
    if (era.era === 'reject') return reply(res, era.status, errorResponse(isRequest(message) ? message.id : null, era.error.code, era.error.message, era.error.data));
    if (era.era === 'modern') return this.stateless.handle(req, res, message, principal);

    if (isRequest(message) && message.method === 'initialize') return this.initialize(req, res, message, principal);

    const session = this.session(req, res, principal);
    if (!session) return;
    const version = req.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !isLegacyVersion(version)) {
      return reply(res, 400, errorResponse(null, ErrorCode.InvalidRequest, `Bad Request: unsupported MCP-Protocol-Version ${version}`));
    }

    if (isResponse(message)) {
      session.answer(message);
      res.writeHead(202).end();
      return;
    }
    if (isNotification(message)) {
      this.notification(session, message);
      res.writeHead(202).end();
      return;
    }
    return this.request(req, res, session, message as JsonRpcRequest);
  }

  private async initialize(req: IncomingMessage, res: ServerResponse, message: JsonRpcRequest, principal: Principal): Promise<void> {
    if (req.headers['mcp-session-id'] !== undefined) {
      return reply(res, 400, errorResponse(message.id, ErrorCode.InvalidRequest, 'Invalid Request: initialize must not carry an Mcp-Session-Id'));
    }
    // A live session holds one of its principal's slots until DELETE or idle expiry frees it.
    const limits = this.options.limits;
    const usage = limits?.of(principal.bindingKey);
    if (limits && usage && !limits.openSession(usage, principal)) {
      const max = limits.config.sessionsPerPrincipal;
      return reply(res, 429, limitError(message.id, 'sessions_per_principal', max, 'this principal has too many open sessions; end one with DELETE'), { 'retry-after': '60' });
    }
    const params = message.params ?? {};
    const version = negotiateLegacyVersion(params.protocolVersion);
    const session = new ClientSession(version, objectOr(params.capabilities), objectOr(params.clientInfo), principal);
    if (limits && usage) session.slot = { limits, usage };
    this.sessions.add(session);
    this.options.onSessionOpened?.(session);
    const result: Record<string, unknown> = { protocolVersion: version, capabilities: LEGACY_CAPABILITIES, serverInfo: this.options.serverInfo };
    if (this.options.instructions) result.instructions = this.options.instructions;
    const body = JSON.stringify({ jsonrpc: '2.0', id: message.id, result });
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': session.id, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private request(req: IncomingMessage, res: ServerResponse, session: ClientSession, message: JsonRpcRequest): Promise<void> {
    const key = requestKey(message.id);
    if (session.inFlight.has(key)) {
      return Promise.resolve(
        reply(res, 400, errorResponse(message.id, ErrorCode.InvalidRequest, `Invalid Request: id ${String(message.id)} is already in use by a request in flight`)),
      );
    }
    const slot = session.slot;
    if (slot && !slot.limits.startCall(slot.usage, session.principal, message.method, session.id)) {
      const max = slot.limits.config.callsPerPrincipal;
      // Answered like any JSON-RPC error (HTTP 200), so a client's SDK shows the message.
      return Promise.resolve(reply(res, 200, limitError(message.id, 'calls_per_principal', max, 'this principal has too many requests in flight')));
    }
    const abort = new AbortController();
    session.inFlight.set(key, abort);
    const channel = new MessageChannel(session.newStreamId(), res, {
      isFinal: (m) => isResponse(m) && m.id === message.id,
      priming: session.protocolVersion >= '2025-11-25',
      requestId: message.id,
      abort,
      method: message.method,
      caller: session,
      limits: slot?.limits,
      usage: slot?.usage,
    });
    session.channels.set(channel.streamId, channel);
    // In the 2025 eras a dropped connection is not a cancellation: the call goes on and the
    // client may resume the stream with Last-Event-ID.
    const ctx = this.context(req, session, message);
    return this.dispatcher.handle(session, message, channel, ctx, abort.signal).finally(() => {
      session.inFlight.delete(key);
      slot?.limits.endCall(slot.usage);
      // Keep a stream only while a client might still resume it.
      if (channel.delivered || !channel.isEnded) session.channels.delete(channel.streamId);
      else setTimeout(() => session.channels.delete(channel.streamId), 60_000).unref();
    });
  }

  private notification(session: ClientSession, message: JsonRpcNotification): void {
    if (message.method === 'notifications/initialized') {
      session.initialized = true;
    } else if (message.method === 'notifications/cancelled') {
      const id = message.params?.requestId;
      if (typeof id === 'string' || typeof id === 'number') session.inFlight.get(requestKey(id))?.abort(message.params?.reason ?? 'cancelled by client');
    }
    // notifications/roots/list_changed: upstreams ask for roots only during a call, where the
    // request is relayed to this client live, so there is nothing to forward.
  }

  private async get(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!String(req.headers.accept ?? '').includes('text/event-stream')) {
      return reply(res, 406, errorResponse(null, ErrorCode.InvalidRequest, 'Not Acceptable: the client must accept text/event-stream'));
    }
    const principal = await this.identity.authenticate(req);
    if (isRejection(principal)) return reply(res, principal.status, errorResponse(null, ErrorCode.InvalidRequest, 'Unauthorized'), principal.headers);
    const session = this.session(req, res, principal);
    if (!session) return;
    const lastEventId = req.headers['last-event-id'];
    if (typeof lastEventId === 'string') {
      const [streamId, seq] = splitEventId(lastEventId);
      const channel = streamId === undefined ? undefined : session.channels.get(streamId);
      if (!channel) return reply(res, 404, errorResponse(null, ErrorCode.InvalidRequest, `No stream to resume for Last-Event-ID ${lastEventId}`));
      channel.resume(res, seq);
      return;
    }
    if (session.standalone && !session.standalone.isEnded && session.standalone.isAttached) {
      return reply(res, 409, errorResponse(null, ErrorCode.InvalidRequest, 'Conflict: only one standalone SSE stream is allowed per session'));
    }
    // A new GET stream replaces one whose client went away (it would hold a stream slot forever).
    if (session.standalone && !session.standalone.isEnded) session.standalone.close();
    const slot = session.slot;
    const channel = new MessageChannel(session.newStreamId(), res, {
      sse: true,
      isFinal: () => false,
      priming: session.protocolVersion >= '2025-11-25',
      method: 'GET',
      caller: session,
      limits: slot?.limits,
      usage: slot?.usage,
    });
    // Refused by streams_per_principal: the channel answered 429 itself.
    if (channel.isEnded) return;
    session.standalone = channel;
    session.channels.set(channel.streamId, channel);
  }

  private async delete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const principal = await this.identity.authenticate(req);
    if (isRejection(principal)) return reply(res, principal.status, errorResponse(null, ErrorCode.InvalidRequest, 'Unauthorized'), principal.headers);
    const session = this.session(req, res, principal);
    if (!session) return;
    this.sessions.delete(session.id);
    this.options.onSessionClosed?.(session);
    res.writeHead(200).end();
  }

  /** The session a request names, answered 400/404 when missing, unknown, or someone else's. */
  private session(req: IncomingMessage, res: ServerResponse, principal: Principal): ClientSession | undefined {
    const id = req.headers['mcp-session-id'];
    if (typeof id !== 'string' || id.length === 0) {
      reply(res, 400, errorResponse(null, ErrorCode.InvalidRequest, 'Bad Request: Mcp-Session-Id header is required'));
      return undefined;
    }
    const session = this.sessions.get(id);
    // Another principal's session answers exactly like an unknown one (and is recorded).
    if (session && session.principal.bindingKey !== principal.bindingKey) this.options.onForeignSession?.(session, principal);
    if (!session || session.principal.bindingKey !== principal.bindingKey) {
      reply(res, 404, errorResponse(null, ErrorCode.SessionNotFound, 'Session not found'));
      return undefined;
    }
    // Same principal, possibly a newer token (refreshed, or stepped up after a 403): its scopes count.
    session.principal = principal;
    return session;
  }

  private context(req: IncomingMessage, session: ClientSession, message: JsonRpcRequest): RequestContext {
    const ctx: RequestContext = { requestId: randomUUID(), sessionId: session.id, protocolVersion: session.protocolVersion, receivedAt: new Date() };
    addTraceContext(ctx, req, message, false, this.options.instructionKeys ?? TRACE_DEFAULTS.instructionKeys);
    return ctx;
  }
}

function acceptsBoth(accept: string): boolean {
  const a = accept.toLowerCase();
  return (a.includes('application/json') && a.includes('text/event-stream')) || a.includes('*/*');
}

function splitEventId(id: string): [string | undefined, number] {
  const slash = id.lastIndexOf('/');
  if (slash <= 0) return [undefined, 0];
  const seq = Number(id.slice(slash + 1));
  return [id.slice(0, slash), Number.isInteger(seq) ? seq : 0];
}
