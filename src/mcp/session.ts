import { randomUUID } from 'node:crypto';
import type { Principal } from '../pipeline/stages.js';
import { ErrorCode, errorResponse, type JsonRpcId, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { isLoggingLevel, LOG_LEVELS, type LoggingLevel } from '../protocol/log-levels.js';
import type { Caller } from './caller.js';
import type { MessageChannel } from './channel.js';
import type { PrincipalLimits, PrincipalUsage } from './principal-limits.js';

/** Which client capability a server→client request needs. */
const REQUIRED_CAPABILITY: Record<string, string> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * One downstream MCP session (2025 eras): what the client declared at initialize, who opened it,
 * its streams, and the calls and server→client requests in flight on it.
 */
export class ClientSession implements Caller {
  readonly id = randomUUID();
  readonly createdAt = new Date();
  lastSeen = Date.now();
  initialized = false;
  logLevel: LoggingLevel | undefined;
  readonly subscriptions = new Set<string>();
  /** Every stream a client may resume, by stream id. */
  readonly channels = new Map<string, MessageChannel>();
  /** The standalone GET stream, if open. */
  standalone: MessageChannel | undefined;
  /** Client request id → abort, for notifications/cancelled from the client. */
  readonly inFlight = new Map<string, AbortController>();
  /** The principal's slot this session holds (`limits:`), given back when it closes. */
  slot: { limits: PrincipalLimits; usage: PrincipalUsage } | undefined;
  private readonly awaitingClient = new Map<JsonRpcId, (r: JsonRpcResponse) => void>();
  private nextOutgoing = 1;
  private nextStream = 1;

  constructor(
    readonly protocolVersion: string,
    readonly clientCapabilities: Record<string, unknown>,
    readonly clientInfo: Record<string, unknown>,
    /**
     * Who is calling. The binding key never changes for a session; the rest is refreshed from
     * each request's token (a stepped-up token brings more scopes to the same session).
     */
    public principal: Principal,
  ) {}

  get sessionId(): string {
    return this.id;
  }

  newStreamId(): string {
    return `${this.id.slice(0, 8)}-${this.nextStream++}`;
  }

  /** True when a progress or logging notification should reach this client. */
  wants(notification: JsonRpcNotification): boolean {
    if (notification.method !== 'notifications/message' || this.logLevel === undefined) return true;
    const level = LOG_LEVELS.indexOf(notification.params?.level as LoggingLevel);
    return level < 0 || level >= LOG_LEVELS.indexOf(this.logLevel);
  }

  setLogLevel(level: unknown): boolean {
    if (!isLoggingLevel(level)) return false;
    this.logLevel = level;
    return true;
  }

  /**
   * Relays a server→client request onto `channel` (the stream of the call that caused it) under
   * a gateway id, and resolves with the client's answer under the upstream's original id.
   */
  requestClient(channel: MessageChannel, request: JsonRpcRequest, signal: AbortSignal): Promise<JsonRpcResponse> {
    const capability = REQUIRED_CAPABILITY[request.method];
    if (capability && !(capability in this.clientCapabilities)) {
      return Promise.resolve(errorResponse(request.id, ErrorCode.MethodNotFound, `the client did not declare the ${capability} capability`));
    }
    const id = `toolgate-${this.nextOutgoing++}`;
    return new Promise((resolve) => {
      const settle = (r: JsonRpcResponse): void => {
        this.awaitingClient.delete(id);
        resolve({ ...r, id: request.id } as JsonRpcResponse);
      };
      this.awaitingClient.set(id, settle);
      signal.addEventListener(
        'abort',
        () => {
          if (!this.awaitingClient.has(id)) return;
          channel.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: String(signal.reason ?? 'cancelled') } });
          settle(errorResponse(id, ErrorCode.RequestCancelled, 'cancelled by the server'));
        },
        { once: true },
      );
      if (!channel.send({ ...request, id })) {
        settle(errorResponse(id, ErrorCode.InternalError, 'the call that made this request has already ended'));
      }
    });
  }

  /** A response the client POSTed to one of our server→client requests. */
  answer(response: JsonRpcResponse): boolean {
    const settle = response.id === null ? undefined : this.awaitingClient.get(response.id);
    if (!settle) return false;
    settle(response);
    return true;
  }

  close(): void {
    for (const abort of this.inFlight.values()) abort.abort('session closed');
    for (const [id, settle] of this.awaitingClient) settle(errorResponse(id, ErrorCode.InternalError, 'session closed'));
    for (const channel of this.channels.values()) channel.close();
    this.standalone?.close();
    const slot = this.slot;
    this.slot = undefined;
    slot?.limits.closeSession(slot.usage);
  }
}

export function requestKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}
