import type { UpstreamConfig } from '../../src/config/types.js';
import type { JsonRpcId, JsonRpcMessage } from '../../src/protocol/jsonrpc.js';
import { UpstreamClient } from '../../src/upstream/client.js';
import type { UpstreamTransport } from '../../src/upstream/transport/transport.js';
import { answer } from '../fixture/echo-tools.js';
import { type MicroFigure, measureAsync } from './measure.js';

/**
 * An upstream in the same process: answers each request on the next microtask with the fixture's
 * answer. It exists so the client's own work (id mapping, pending table, timeout timer, promise)
 * is all that is timed; the real transports are in the end-to-end figures.
 */
class InProcessTransport implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage, relatedTo?: JsonRpcId) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;
  async start(): Promise<void> {}
  async send(message: JsonRpcMessage): Promise<void> {
    const reply = answer(message as Parameters<typeof answer>[0], 10);
    if (reply) queueMicrotask(() => this.onmessage?.(reply as JsonRpcMessage, (message as { id?: JsonRpcId }).id));
  }
  setProtocolVersion(): void {}
  async openEventStream(): Promise<void> {}
  async close(): Promise<void> {}
}

const CONFIG: UpstreamConfig = {
  id: 'bench',
  transport: { type: 'http', url: 'http://127.0.0.1:1/mcp', headers: {} },
  prefix: 'bench__',
  protocol: '2025-11-25',
  timeouts: { connectMs: 10_000, requestMs: 60_000 },
};

/** UpstreamClient.forward: the client's id replaced by the gateway's, the answer mapped back. */
export async function forwardRoundTrip(ms: number): Promise<MicroFigure> {
  const client = new UpstreamClient(CONFIG, () => new InProcessTransport(), {
    listChanged: () => undefined,
    resourceUpdated: () => undefined,
    unrouted: () => undefined,
    stateChanged: () => undefined,
  });
  await client.start();
  if (client.state !== 'ready') throw new Error(`in-process upstream did not become ready: ${client.lastError}`);
  let n = 0;
  try {
    return await measureAsync(async () => {
      const id = `client-${n++}`;
      const response = await client.forward({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello' } } });
      if (response.id !== id) throw new Error(`id not mapped back: sent ${id}, got ${String(response.id)}`);
      return response;
    }, ms);
  } finally {
    await client.close();
  }
}
