import type { Dispatcher } from 'undici';
import { classifyMessage, ErrorCode, errorResponse, type JsonRpcErrorResponse, type JsonRpcId, type JsonRpcMessage } from '../../protocol/jsonrpc.js';

/*
 * What an upstream's HTTP answer looks like to the transport: its media type, its body read
 * within a limit, and the JSON-RPC message in it, parsed once.
 */

export type ResponseData = Dispatcher.ResponseData;
export type Body = ResponseData['body'];

export const ACCEPT_POST = 'application/json, text/event-stream';
export const ACCEPT_SSE = 'text/event-stream';
/** Default `maxMessageBytes`: generous for tool results, small enough that one answer cannot exhaust memory. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function parseMessage(text: string): JsonRpcMessage | { invalid: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { invalid: `not JSON: ${JSON.stringify(text.slice(0, 80))}` };
  }
  return classifyMessage(value);
}

export function isSuccess(res: ResponseData): boolean {
  return res.statusCode >= 200 && res.statusCode < 300;
}

/** `text/event-stream; charset=utf-8` → `text/event-stream`; '' when absent. */
export function mediaType(res: ResponseData): string {
  const value = res.headers['content-type'];
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return '';
  const semicolon = raw.indexOf(';');
  return (semicolon === -1 ? raw : raw.slice(0, semicolon)).trim().toLowerCase();
}

/** At most `limit` bytes of the body as text (for error bodies: the rest is not worth reading). */
export async function readCapped(body: Body, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(size, limit));
}

/**
 * The whole body as text, or undefined when it is larger than `limit` bytes: then it is not read
 * further (a declared Content-Length over the limit is refused before reading anything).
 */
export async function readWithin(res: ResponseData, limit: number): Promise<string | undefined> {
  const declared = Number(res.headers['content-length']);
  if (declared > limit) {
    res.body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined; // leaving the loop destroys the body
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** The answer a request gets when its response was over `maxMessageBytes` and was discarded. */
export function messageTooLarge(upstreamId: string, requestId: JsonRpcId, limit: number): JsonRpcErrorResponse {
  return errorResponse(
    requestId,
    ErrorCode.UpstreamUnavailable,
    `upstream ${upstreamId} sent a message larger than the limit of ${limit} bytes (maxMessageBytes); it was discarded`,
  );
}

/** The answer a request gets when what came back cannot be its response. */
export function invalidAnswer(upstreamId: string, requestId: JsonRpcId, reason: string): JsonRpcErrorResponse {
  return errorResponse(requestId, ErrorCode.UpstreamUnavailable, `upstream ${upstreamId} sent an invalid response: ${reason}`);
}

/** An undici or socket error for a message: its code (ECONNREFUSED, UND_ERR_…) and text. */
export function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
