/*
 * The calls in flight on one upstream, across all its sessions: the gateway's ids (one counter
 * per upstream, so two clients using the same id never collide), the table that answers are
 * routed through, each call's timeout (restarted by progress) and how the upstream is told to
 * stop a call. Which session a call goes on, and sending it again after a session loss, is the
 * UpstreamClient's (client.ts).
 */

import { ErrorCode, errorResponse, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { PendingCall } from './call.js';
import type { HandshakeRequest } from './handshake.js';
import type { UpstreamTransport } from './transport/transport.js';

/** Sends without waiting; `via` undefined means the upstream's current session. */
export type QuietSend = (message: JsonRpcMessage, via: UpstreamTransport | undefined) => void;

export class CallsInFlight {
  private nextId = 1;
  /** By the gateway's id, which is also the progress token the upstream was given. */
  readonly byId = new Map<JsonRpcId, PendingCall>();

  constructor(
    private readonly upstream: string,
    private readonly send: QuietSend,
  ) {}

  /** The gateway's id for the next request to this upstream. */
  newId(): number {
    return this.nextId++;
  }

  /** Starts waiting for the answer to `call`, bounded by its timeout. */
  add(id: JsonRpcId, call: PendingCall): void {
    this.byId.set(id, call);
    this.arm(id, call);
  }

  /** The call was answered (or given up on): it leaves the table and its timer stops. */
  remove(id: JsonRpcId, call: PendingCall): void {
    clearTimeout(call.timer);
    this.byId.delete(id);
  }

  /** (Re)starts a call's timeout. Past it the upstream is told to stop and the caller gets -32010 naming it. */
  arm(id: JsonRpcId, call: PendingCall): void {
    clearTimeout(call.timer);
    call.timer = setTimeout(() => {
      if (!this.byId.has(id)) return;
      this.cancel(id, call, 'timed out at the gateway');
      call.resolve(
        errorResponse(id, ErrorCode.UpstreamUnavailable, `upstream ${this.upstream} did not answer ${call.method} within ${call.timeoutMs} ms`, { upstream: this.upstream }),
      );
    }, call.timeoutMs);
    call.timer.unref?.();
  }

  /** Tells the upstream to stop a request: a notification in the 2025 eras, closing its stream in 2026-07-28. */
  cancel(id: JsonRpcId, call: PendingCall, reason: string): void {
    if (call.stream) call.stream.abort(reason);
    else this.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }, call.transport);
  }

  /** Whether a call still waits on something it sent on `transport`. */
  sentOn(transport: UpstreamTransport): boolean {
    for (const call of this.byId.values()) if (call.transport === transport) return true;
    return false;
  }

  /** Fails what is pending: everything, or what was sent on `transport` (with `acceptedOnly`, what it had accepted). */
  failAll(why: string, transport?: UpstreamTransport, acceptedOnly = false): void {
    for (const [id, call] of this.byId) {
      if (transport !== undefined && (call.transport !== transport || (acceptedOnly && !call.accepted))) continue;
      call.resolve(errorResponse(id, ErrorCode.UpstreamUnavailable, why, { upstream: this.upstream }));
    }
  }

  /** Sends handshake requests on `transport`, outside the ready gate, each bounded by connect_ms. */
  handshakeRequest(transport: UpstreamTransport, connectMs: number): HandshakeRequest {
    return (request, headers) =>
      new Promise<JsonRpcResponse>((resolve, reject) => {
        const id = this.newId();
        const timer = setTimeout(() => {
          this.byId.delete(id);
          reject(new Error(`no answer to ${request.method} within ${connectMs} ms`));
        }, connectMs);
        this.byId.set(id, {
          resolve: (r) => {
            clearTimeout(timer);
            this.byId.delete(id);
            resolve(r);
          },
          transport,
          timeoutMs: connectMs,
          method: request.method,
        });
        transport.send({ ...request, id }, headers ? { headers } : undefined).catch((err) => {
          clearTimeout(timer);
          this.byId.delete(id);
          reject(err);
        });
      });
  }
}
