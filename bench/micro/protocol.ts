import type { ServerResponse } from 'node:http';
import { MessageChannel } from '../../src/mcp/channel.js';
import { classifyMessage, type JsonRpcMessage } from '../../src/protocol/jsonrpc.js';
import { type MicroFigure, measureSync } from './measure.js';

const CALL_BODY = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'tools/call', params: { name: 'fast__echo', arguments: { message: 'hello' } } }));
const RESPONSE: JsonRpcMessage = { jsonrpc: '2.0', id: 42, result: { content: [{ type: 'text', text: 'Echo: hello' }] } };

/** What the endpoint does with each POST body: decode, JSON.parse, classify. */
export function parseAndClassify(ms: number): MicroFigure {
  return measureSync(() => classifyMessage(JSON.parse(CALL_BODY.toString('utf8'))), ms);
}

/** classifyMessage alone, on an already parsed value. */
export function classifyOnly(ms: number): MicroFigure {
  const parsed: unknown = JSON.parse(CALL_BODY.toString('utf8'));
  return measureSync(() => classifyMessage(parsed), ms);
}

/**
 * A MessageChannel created for a request and sent its final response as plain JSON.
 * The response object is a stand-in that discards what is written: the socket write itself is
 * in the end-to-end figures, and a real ServerResponse cannot be driven without one.
 */
export function channelJsonSend(ms: number): MicroFigure {
  const discard = { writeHead: () => discard, end: () => discard, write: () => true, on: () => discard, flushHeaders: () => undefined };
  const res = discard as unknown as ServerResponse;
  let n = 0;
  return measureSync(() => {
    const channel = new MessageChannel(`bench-${n++}`, res, { isFinal: (m) => 'id' in m && m.id === 42, priming: true });
    return channel.send(RESPONSE);
  }, ms);
}
