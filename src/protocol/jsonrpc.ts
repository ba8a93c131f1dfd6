/**
 * JSON-RPC 2.0 message shapes as MCP uses them. Only this folder classifies raw JSON as
 * JSON-RPC (classifyMessage); every other stage receives already-classified values.
 */
import { isObject } from './json.js';

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcResultResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: Record<string, unknown>;
}

export interface JsonRpcErrorResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcResultResponse | JsonRpcErrorResponse;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard JSON-RPC and MCP error codes used by the gateway. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Streamable HTTP: the session is unknown or ended. */
  SessionNotFound: -32001,
  /** MCP: resource not found. */
  ResourceNotFound: -32002,
  /** The client cancelled the request (never sent to a client that cancelled; used internally). */
  RequestCancelled: -32800,
  /** toolgate: the upstream that owns this request failed (down, timed out, sent garbage). */
  UpstreamUnavailable: -32010,
} as const;

export function isRequest(m: JsonRpcMessage): m is JsonRpcRequest {
  return 'method' in m && 'id' in m && m.id !== undefined && m.id !== null;
}

export function isNotification(m: JsonRpcMessage): m is JsonRpcNotification {
  return 'method' in m && !('id' in m && m.id !== undefined && m.id !== null);
}

export function isResponse(m: JsonRpcMessage): m is JsonRpcResponse {
  return !('method' in m) && ('result' in m || 'error' in m);
}

export function isErrorResponse(m: JsonRpcMessage): m is JsonRpcErrorResponse {
  return !('method' in m) && 'error' in m;
}

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcErrorResponse {
  const error: JsonRpcErrorObject = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: '2.0', id, error };
}

export function resultResponse(id: JsonRpcId, result: Record<string, unknown>): JsonRpcResultResponse {
  return { jsonrpc: '2.0', id, result };
}

/**
 * Classifies one parsed JSON value as a JSON-RPC message, or returns a reason it is not one.
 * Batches (arrays) are not messages: callers reject them for every era we speak.
 */
export function classifyMessage(value: unknown): JsonRpcMessage | { invalid: string } {
  if (!isObject(value)) return { invalid: 'a JSON-RPC message must be a JSON object' };
  const v = value;
  if (v.jsonrpc !== '2.0') return { invalid: 'jsonrpc must be "2.0"' };
  if ('method' in v) {
    if (typeof v.method !== 'string' || v.method.length === 0) return { invalid: 'method must be a non-empty string' };
    if ('params' in v && v.params !== undefined && !isObject(v.params)) {
      return { invalid: 'params must be an object' };
    }
    if ('id' in v && v.id !== undefined) {
      if (typeof v.id !== 'string' && typeof v.id !== 'number') return { invalid: 'id must be a string or a number' };
    }
    return v as unknown as JsonRpcMessage;
  }
  if ('result' in v || 'error' in v) {
    if (typeof v.id !== 'string' && typeof v.id !== 'number' && v.id !== null) return { invalid: 'a response needs an id' };
    if ('error' in v) {
      const e = v.error as Record<string, unknown> | null;
      if (typeof e !== 'object' || e === null || typeof e.code !== 'number' || typeof e.message !== 'string') {
        return { invalid: 'error must have a numeric code and a message' };
      }
    } else if (!isObject(v.result)) {
      return { invalid: 'result must be an object' };
    }
    return v as unknown as JsonRpcMessage;
  }
  return { invalid: 'not a request, notification or response' };
}
