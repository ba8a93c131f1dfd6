/**
 * The per-request `_meta` envelope of 2026-07-28 (basic/index.mdx, "Per-request protocol
 * fields"): every request carries its protocol version and client capabilities; client
 * identity and log level are optional. A request missing a required key is malformed:
 * -32602 with HTTP 400.
 */

import { isObject } from '../json.js';
import { ErrorCode, type JsonRpcErrorObject, type JsonRpcMessage, type JsonRpcRequest } from '../jsonrpc.js';
import { isLoggingLevel, LOG_LEVELS, type LoggingLevel } from '../log-levels.js';
import { MetaKey } from './protocol.js';

export interface Implementation {
  name: string;
  version: string;
  [key: string]: unknown;
}

export type ClientCapabilities = Record<string, unknown>;

export interface RequestEnvelope {
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo?: Implementation;
  logLevel?: LoggingLevel;
}

export interface EnvelopeRejection {
  status: 400;
  error: JsonRpcErrorObject;
}

const ENVELOPE_KEYS = [MetaKey.protocolVersion, MetaKey.clientInfo, MetaKey.clientCapabilities, MetaKey.logLevel] as const;

function metaOf(message: JsonRpcMessage): Record<string, unknown> | undefined {
  const params = 'params' in message ? message.params : undefined;
  const meta = params?._meta;
  return isObject(meta) ? meta : undefined;
}

/**
 * Whether the message claims the modern envelope: `params._meta` carries the protocol
 * version key (whatever its value). This, not any header, decides the era of a request.
 */
export function hasEnvelopeClaim(message: JsonRpcMessage): boolean {
  const meta = metaOf(message);
  return meta !== undefined && MetaKey.protocolVersion in meta;
}

/** The protocol version the body declares, when it declares one as a string. */
export function envelopeVersion(message: JsonRpcMessage): string | undefined {
  const v = metaOf(message)?.[MetaKey.protocolVersion];
  return typeof v === 'string' ? v : undefined;
}

function invalid(key: string, problem: string): EnvelopeRejection {
  return {
    status: 400,
    error: { code: ErrorCode.InvalidParams, message: `Invalid _meta envelope: ${key}: ${problem}`, data: { envelope: { key, problem } } },
  };
}

/**
 * Reads and validates the envelope of a modern request.
 *
 * @example
 * readRequestEnvelope({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: {
 *   'io.modelcontextprotocol/protocolVersion': '2026-07-28',
 *   'io.modelcontextprotocol/clientCapabilities': {} } } })
 * // → { protocolVersion: '2026-07-28', clientCapabilities: {} }
 */
export function readRequestEnvelope(request: JsonRpcRequest): RequestEnvelope | EnvelopeRejection {
  const meta = metaOf(request);
  if (meta === undefined) return invalid('_meta', 'missing');
  const version = meta[MetaKey.protocolVersion];
  if (version === undefined) return invalid(MetaKey.protocolVersion, 'missing');
  if (typeof version !== 'string' || version.length === 0) return invalid(MetaKey.protocolVersion, 'must be a non-empty string');
  const capabilities = meta[MetaKey.clientCapabilities];
  if (capabilities === undefined) return invalid(MetaKey.clientCapabilities, 'missing');
  if (!isObject(capabilities)) return invalid(MetaKey.clientCapabilities, 'must be an object');

  const envelope: RequestEnvelope = { protocolVersion: version, clientCapabilities: capabilities };
  const info = meta[MetaKey.clientInfo];
  if (info !== undefined) {
    if (!isObject(info) || typeof info.name !== 'string' || typeof info.version !== 'string') {
      return invalid(MetaKey.clientInfo, 'must be an object with string name and version');
    }
    envelope.clientInfo = info as Implementation;
  }
  const level = meta[MetaKey.logLevel];
  if (level !== undefined) {
    if (!isLoggingLevel(level)) {
      return invalid(MetaKey.logLevel, `must be one of ${LOG_LEVELS.join(', ')}`);
    }
    envelope.logLevel = level;
  }
  return envelope;
}

/**
 * Returns a copy of `request` carrying the envelope the gateway sends to a modern upstream.
 * Other `_meta` keys (progressToken, traceparent, vendor keys) are kept; the version and
 * capabilities always come from `envelope`; a client identity not given is removed, so a
 * downstream client's self-description never reaches the upstream by accident.
 *
 * @example withRequestEnvelope(req, { protocolVersion: '2026-07-28', clientCapabilities: {}, clientInfo: { name: 'toolgate', version: '0.1.0' } })
 */
export function withRequestEnvelope(request: JsonRpcRequest, envelope: RequestEnvelope): JsonRpcRequest {
  const meta: Record<string, unknown> = { ...(metaOf(request) ?? {}) };
  meta[MetaKey.protocolVersion] = envelope.protocolVersion;
  meta[MetaKey.clientCapabilities] = envelope.clientCapabilities;
  if (envelope.clientInfo !== undefined) meta[MetaKey.clientInfo] = envelope.clientInfo;
  else delete meta[MetaKey.clientInfo];
  if (envelope.logLevel !== undefined) meta[MetaKey.logLevel] = envelope.logLevel;
  return { ...request, params: { ...(request.params ?? {}), _meta: meta } };
}

/**
 * Returns a copy of `request` without the envelope keys, for a legacy (2025-era) upstream.
 * An emptied `_meta` is removed, and so is an emptied `params`. The log level is dropped
 * with the rest: a legacy upstream sets it per session with `logging/setLevel`.
 */
export function withoutRequestEnvelope(request: JsonRpcRequest): JsonRpcRequest {
  const meta = metaOf(request);
  if (meta === undefined || !ENVELOPE_KEYS.some((k) => k in meta)) return request;
  const rest: Record<string, unknown> = { ...meta };
  for (const k of ENVELOPE_KEYS) delete rest[k];
  const params: Record<string, unknown> = { ...request.params };
  if (Object.keys(rest).length > 0) params._meta = rest;
  else delete params._meta;
  const { params: _dropped, ...copy } = request;
  return Object.keys(params).length > 0 ? { ...copy, params } : copy;
}
