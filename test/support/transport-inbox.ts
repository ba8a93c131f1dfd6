import type { JsonRpcId, JsonRpcMessage } from '../../src/protocol/jsonrpc.js';
import type { UpstreamTransport } from '../../src/upstream/transport/transport.js';
import { waitFor } from './wait-for.js';

export interface Received {
  message: JsonRpcMessage;
  relatedTo: JsonRpcId | undefined;
}

/** Records what an upstream transport delivers (messages, errors, close) and lets a test wait for it. */
export class Inbox {
  readonly received: Received[] = [];
  readonly errors: Error[] = [];
  readonly closes: string[] = [];

  attach(transport: UpstreamTransport): void {
    transport.onmessage = (message, relatedTo) => {
      this.received.push({ message, relatedTo });
    };
    transport.onerror = (error) => {
      this.errors.push(error);
    };
    transport.onclose = (reason) => {
      this.closes.push(reason);
    };
  }

  /** Resolves once `ready()` gives a value; fails after 10 s (listing what did arrive) so a broken test ends. */
  async until<T>(ready: () => T | undefined, what: string): Promise<T> {
    try {
      return (await waitFor(ready, { what, timeoutMs: 10_000, intervalMs: 5 })) as T;
    } catch (err) {
      throw new Error(`${(err as Error).message}; received ${JSON.stringify(this.received)}`);
    }
  }

  /** The first message (already received or still to come) that matches. */
  waitFor(match: (r: Received) => boolean, what: string): Promise<Received> {
    return this.until(() => this.received.find(match), what);
  }

  response(id: JsonRpcId): Promise<Received> {
    return this.waitFor((r) => 'id' in r.message && r.message.id === id && !('method' in r.message), `response ${id}`);
  }
}
