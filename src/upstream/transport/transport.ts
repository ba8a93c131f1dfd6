import { ToolgateError } from '../../errors.js';
import type { JsonRpcId, JsonRpcMessage } from '../../protocol/jsonrpc.js';

/**
 * How the gateway talks to one upstream MCP server, below the protocol: bytes in, messages out.
 * The protocol (initialize, id mapping, catalog) lives in src/mcp and src/catalog; a transport
 * only moves messages and tells which outgoing request's stream a message arrived on.
 */
export interface UpstreamTransport {
  /** Connects (spawns the process, or nothing for HTTP). Rejects with UpstreamTransportError. */
  start(): Promise<void>;
  /**
   * Sends one message. For HTTP, a request's response and every message the server sends on
   * that request's stream are delivered to `onmessage` with `relatedTo` = the request's id.
   * Resolves once the message was handed over (HTTP: response headers received and accepted);
   * rejects with UpstreamTransportError when it could not be.
   */
  send(message: JsonRpcMessage, options?: SendOptions): Promise<void>;
  /** Protocol version to announce on HTTP (`MCP-Protocol-Version`), set after negotiation. */
  setProtocolVersion(version: string): void;
  /** HTTP: opens the standalone GET stream if the server offers one. stdio: no-op. */
  openEventStream(): Promise<void>;
  /** Ends the session (HTTP DELETE when a session id exists; stdio: closes stdin, then kills). */
  close(): Promise<void>;

  /** Every message that arrives. `relatedTo` is set when the transport knows the request it belongs to. */
  onmessage?: (message: JsonRpcMessage, relatedTo?: JsonRpcId) => void;
  /** The connection is gone (process exited, session expired). The owner decides whether to restart. */
  onclose?: (reason: string) => void;
  /** A problem worth logging that does not close the connection (a garbage line, a dropped stream). */
  onerror?: (error: Error) => void;
}

export interface SendOptions {
  /** Extra HTTP headers for this message only (per-call credential, traceparent, Mcp-Method…). */
  headers?: Record<string, string>;
  /** Aborting stops reading this request's stream (HTTP) — used when the call is cancelled. */
  signal?: AbortSignal;
  /**
   * Backpressure from whoever takes this request's messages. HTTP: awaited between chunks of the
   * request's stream, so a slow client stops the reading (and the upstream's TCP window); stdio
   * cannot pause one call of a shared pipe and ignores it.
   */
  flow?: Flow;
}

/** Whoever takes a request's messages: a promise while it cannot take more. */
export interface Flow {
  ready(): Promise<void> | undefined;
}

export class UpstreamTransportError extends ToolgateError {
  constructor(
    readonly upstream: string,
    code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `upstream ${upstream}: ${message}`, options);
  }
}
