import type { Downstream, Principal } from '../pipeline/stages.js';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { MessageChannel } from './channel.js';

/**
 * The downstream side of one request, whatever the era: who is calling, what their client can
 * take, and how to reach it. A 2025-era ClientSession is one; a stateless 2026-07-28 request
 * brings its own. The pipeline sees it through its `Downstream` seam.
 */
export interface Caller extends Downstream {
  readonly principal: Principal;
  readonly sessionId?: string;
  readonly protocolVersion: string;
  readonly clientCapabilities: Record<string, unknown>;
  /** Filter for notifications (log level). */
  wants(notification: JsonRpcNotification): boolean;
  /** Relays a server→client request on the channel of the call that caused it. */
  requestClient(channel: MessageChannel, request: JsonRpcRequest, signal: AbortSignal): Promise<JsonRpcResponse>;
  setLogLevel(level: unknown): boolean;
  /** Shapes a final response for this caller's era (e.g. 2026-07-28 resultType and caching hints). */
  present?(method: string, response: JsonRpcResponse): JsonRpcResponse;
  /** URIs this caller subscribed to (stateful eras only). */
  readonly subscriptions?: Set<string>;
}
