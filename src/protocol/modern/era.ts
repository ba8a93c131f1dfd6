/**
 * Telling the eras apart (basic/versioning.mdx, "Backward Compatibility"; streamable-http.mdx,
 * "Backward Compatibility"), from both sides the gateway stands on:
 * - as a server: the body decides. A request whose `_meta` carries the protocol-version key
 *   is modern; `initialize` without it is legacy; a modern `MCP-Protocol-Version` header on a
 *   body without the key is a malformed modern request, never a legacy one.
 * - as a client probing an upstream: send `server/discover` with a modern envelope; a
 *   DiscoverResult or a recognised modern error means modern, anything else on a 4xx means
 *   legacy (fall back to `initialize`). Cache the verdict per upstream origin.
 */

import { isObject } from '../json.js';
import type { JsonRpcErrorObject, JsonRpcMessage } from '../jsonrpc.js';
import { type Discovered, parseDiscoverResult } from './discover.js';
import { hasEnvelopeClaim } from './envelope.js';
import { type HeaderBag, HeaderName } from './headers.js';
import { isModernProtocolVersion, ModernErrorCode } from './protocol.js';

export type ClientEra = { era: 'modern' } | { era: 'legacy' } | { era: 'reject'; status: 400; error: JsonRpcErrorObject };

function protocolHeader(headers: HeaderBag): string | undefined {
  const wanted = HeaderName.protocolVersion.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === wanted && v !== undefined) return (Array.isArray(v) ? (v[0] ?? '') : v).trim();
  }
  return undefined;
}

/**
 * Which era serves one POSTed message. Posted responses only exist in the 2025 eras.
 *
 * @example classifyClientEra({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, {}) // { era: 'legacy' }
 */
export function classifyClientEra(message: JsonRpcMessage, headers: HeaderBag): ClientEra {
  if (!('method' in message)) return { era: 'legacy' };
  if (hasEnvelopeClaim(message)) return { era: 'modern' };
  const header = protocolHeader(headers);
  const headerIsModern = header !== undefined && isModernProtocolVersion(header);
  if (message.method === 'initialize') {
    if (!headerIsModern) return { era: 'legacy' };
    return {
      era: 'reject',
      status: 400,
      error: {
        code: ModernErrorCode.HeaderMismatch,
        message: `Header mismatch: initialize sent with ${HeaderName.protocolVersion} ${header}`,
        data: { header: HeaderName.protocolVersion, received: header },
      },
    };
  }
  return headerIsModern ? { era: 'modern' } : { era: 'legacy' };
}

/** What came back for a `server/discover` probe: the HTTP status and the parsed JSON-RPC body, if any. */
export interface ProbeReply {
  status: number;
  body?: unknown;
}

export type ProbeVerdict =
  | { kind: 'modern'; version: string; discovered: Discovered }
  | { kind: 'retry'; version: string }
  | { kind: 'legacy' }
  | { kind: 'error'; reason: string };

function fromUnsupported(data: unknown, ours: readonly string[]): ProbeVerdict {
  const supported = isObject(data) && Array.isArray(data.supported) ? data.supported.filter((v): v is string => typeof v === 'string') : [];
  if (supported.length === 0) return { kind: 'legacy' };
  const mutual = ours.find((v) => supported.includes(v));
  if (mutual !== undefined) return { kind: 'retry', version: mutual };
  if (supported.some((v) => !isModernProtocolVersion(v))) return { kind: 'legacy' };
  return { kind: 'error', reason: `no common protocol version: the server supports ${supported.join(', ')}` };
}

/**
 * Reads the reply to a `server/discover` probe sent with our preferred modern version.
 * `ours` lists the modern versions we speak, preferred first.
 *
 * - 401/403: an authorization problem, not an era signal. 5xx and unusable 2xx: an outage.
 * - A DiscoverResult: modern at the first of `ours` it lists; no overlap means try legacy.
 * - -32022 with `data.supported`: retry with a common modern version, else legacy when the
 *   server lists any legacy version.
 * - -32020 / -32021: a modern server refused our probe. The spec reads this as modern
 *   evidence and forbids falling back; it is our bug. (The SDK v2 client falls back instead.)
 * - Anything else (empty body, -32000 "no session", -32601, not JSON-RPC): legacy.
 */
export function classifyDiscoverProbe(reply: ProbeReply, ours: readonly string[]): ProbeVerdict {
  if (reply.status === 401 || reply.status === 403) return { kind: 'error', reason: `the server answered the probe with HTTP ${reply.status}` };
  if (reply.status >= 500) return { kind: 'error', reason: `the server answered the probe with HTTP ${reply.status}` };
  const body = reply.body;
  if (isObject(body) && 'result' in body && reply.status < 300) {
    const parsed = parseDiscoverResult(body.result);
    if (!parsed.ok) return { kind: 'legacy' };
    const version = ours.find((v) => parsed.supportedVersions.includes(v));
    if (version === undefined) return { kind: 'legacy' };
    const { ok: _ok, ...discovered } = parsed;
    return { kind: 'modern', version, discovered };
  }
  if (isObject(body) && isObject(body.error) && typeof body.error.code === 'number') {
    const code = body.error.code;
    if (code === ModernErrorCode.UnsupportedProtocolVersion) return fromUnsupported(body.error.data, ours);
    if (code === ModernErrorCode.HeaderMismatch || code === ModernErrorCode.MissingRequiredClientCapability) {
      return { kind: 'error', reason: `a modern server refused the probe: ${String(body.error.message)}` };
    }
    return { kind: 'legacy' };
  }
  if (reply.status < 300) return { kind: 'error', reason: 'the probe was answered 2xx without a JSON-RPC response' };
  return { kind: 'legacy' };
}
