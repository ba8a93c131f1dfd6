import type { JsonRpcId, JsonRpcMessage } from '../../src/protocol/jsonrpc.js';
import type { UpstreamTransport } from '../../src/upstream/transport/transport.js';

export interface Received {
  message: JsonRpcMessage;
  relatedTo: JsonRpcId | undefined;
}

/** Records what an upstream transport delivers (messages, errors, close) and lets a test wait for it. */
export class Inbox {
  readonly received: Received[] = [];
  readonly errors: Error[] = [];
  readonly closes: string[] = [];
  private readonly waiters: Array<() => void> = [];

  attach(transport: UpstreamTransport): void {
    transport.onmessage = (message, relatedTo) => {
      this.received.push({ message, relatedTo });
      this.wake();
    };
    transport.onerror = (error) => {
      this.errors.push(error);
      this.wake();
    };
    transport.onclose = (reason) => {
      this.closes.push(reason);
      this.wake();
    };
  }

  /** Resolves once `ready()` gives a value; fails after 10 s so a broken test ends. */
  async until<T>(ready: () => T | undefined, what: string): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = ready();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first message (already received or still to come) that matches. */
  waitFor(match: (r: Received) => boolean, what: string): Promise<Received> {
    return this.until(() => this.received.find(match), what);
  }

  response(id: JsonRpcId): Promise<Received> {
    return this.waitFor((r) => 'id' in r.message && r.message.id === id && !('method' in r.message), `response ${id}`);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
