/*
 * Everything an upstream sends, and where it goes: answers to the calls in flight, progress
 * (with the client's own token restored), the upstream's cancellations of its server→client
 * requests, list_changed and resources/updated events, and server→client requests relayed to
 * the sink of the call that caused them. What cannot be tied to a call is dropped and counted,
 * never guessed (see `attribute`). The UpstreamClient owns the calls and the sessions; the inbox
 * only reads the one (in-flight.ts) and answers on the other.
 */

import {
  ErrorCode,
  errorResponse,
  isNotification,
  isRequest,
  isResponse,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.js';
import { fromModern, type PendingCall } from './call.js';
import type { CallsInFlight } from './in-flight.js';
import type { UpstreamTransport } from './transport/transport.js';

/** What the inbox needs from the client whose upstream it reads. */
export interface InboxHost {
  /** The upstream's id, for errors that name it. */
  readonly upstream: string;
  /** The era the handshake settled: 2026-07-28 answers are adapted before they reach a call. */
  era(): 'legacy' | 'modern';
  /** The calls in flight; progress restarts a call's timeout (`arm`). */
  readonly calls: Pick<CallsInFlight, 'byId' | 'arm'>;
  /** Sends an answer back on the transport the request came on; a failure is only remembered. */
  reply(message: JsonRpcMessage, via: UpstreamTransport): void;
  listChanged(kind: 'tools' | 'prompts' | 'resources'): void;
  resourceUpdated(notification: JsonRpcNotification): void;
  /** A message tied to no call: dropped, counted and reported. */
  unrouted(message: JsonRpcMessage, why: string): void;
}

/** Routes what one upstream sends to the call, the client or the catalog it belongs to. */
export class UpstreamInbox {
  /** Server→client requests in flight, by the upstream's id: aborted when the upstream cancels them. */
  private readonly serverRequests = new Map<JsonRpcId, AbortController>();

  constructor(private readonly host: InboxHost) {}

  /** `from`: the transport it came on, where any answer goes back. */
  receive(message: JsonRpcMessage, relatedTo: JsonRpcId | undefined, from: UpstreamTransport): void {
    if (isResponse(message)) {
      const entry = message.id === null ? undefined : this.host.calls.byId.get(message.id);
      if (entry) entry.resolve(this.host.era() === 'modern' ? fromModern(message, this.host.upstream) : message);
      else this.host.unrouted(message, 'response to no pending request');
      return;
    }
    if (isRequest(message)) {
      this.receiveRequest(message, relatedTo, from);
      return;
    }
    if (isNotification(message)) this.receiveNotification(message, relatedTo);
  }

  private receiveNotification(n: JsonRpcNotification, relatedTo?: JsonRpcId): void {
    const params = n.params ?? {};
    switch (n.method) {
      case 'notifications/progress': {
        const entry = this.host.calls.byId.get(params.progressToken as JsonRpcId);
        if (!entry || entry.clientProgressToken === undefined) {
          this.host.unrouted(n, 'progress for an unknown token');
          return;
        }
        this.host.calls.arm(params.progressToken as JsonRpcId, entry);
        entry.sink?.notify({ ...n, params: { ...params, progressToken: entry.clientProgressToken } });
        return;
      }
      case 'notifications/cancelled': {
        this.serverRequests.get(params.requestId as JsonRpcId)?.abort(params.reason ?? 'cancelled by upstream');
        return;
      }
      case 'notifications/tools/list_changed':
        this.host.listChanged('tools');
        return;
      case 'notifications/prompts/list_changed':
        this.host.listChanged('prompts');
        return;
      case 'notifications/resources/list_changed':
        this.host.listChanged('resources');
        return;
      case 'notifications/resources/updated':
        this.host.resourceUpdated(n);
        return;
      default: {
        const target = this.attribute(relatedTo);
        if (target?.sink) target.sink.notify(n);
        else this.host.unrouted(n, 'notification not tied to a call');
      }
    }
  }

  private receiveRequest(r: JsonRpcRequest, relatedTo: JsonRpcId | undefined, from: UpstreamTransport): void {
    if (r.method === 'ping') {
      this.host.reply({ jsonrpc: '2.0', id: r.id, result: {} }, from);
      return;
    }
    const target = this.attribute(relatedTo);
    if (!target?.sink) {
      this.host.unrouted(r, 'server→client request not tied to a call');
      this.host.reply(
        errorResponse(r.id, ErrorCode.InternalError, `toolgate cannot tell which client call ${r.method} belongs to; it is only relayed while a call is in flight`),
        from,
      );
      return;
    }
    const abort = new AbortController();
    this.serverRequests.set(r.id, abort);
    target.sink
      .request(r, abort.signal)
      .then(
        (answer) => {
          if (abort.signal.aborted) return;
          this.host.reply({ ...answer, id: r.id } as JsonRpcResponse, from);
        },
        // A relay that failed (the client went away mid-request, say) still owes the upstream an
        // answer, and must not become an unhandled rejection that ends the process.
        (err: unknown) => {
          if (abort.signal.aborted) return;
          this.host.reply(
            errorResponse(r.id, ErrorCode.InternalError, `toolgate could not relay ${r.method} to the client: ${err instanceof Error ? err.message : String(err)}`),
            from,
          );
        },
      )
      .finally(() => this.serverRequests.delete(r.id));
  }

  /**
   * Which pending call a message belongs to. HTTP tells us (the stream it came on); stdio does not,
   * so a message is attributed only when exactly one call is in flight — never guessed between two.
   */
  private attribute(relatedTo?: JsonRpcId): PendingCall | undefined {
    if (relatedTo !== undefined) return this.host.calls.byId.get(relatedTo);
    let only: PendingCall | undefined;
    for (const entry of this.host.calls.byId.values()) {
      if (!entry.sink) continue;
      if (only) return undefined;
      only = entry;
    }
    return only;
  }
}
