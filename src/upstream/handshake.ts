import type { UpstreamConfig } from '../config/types.js';
import { LATEST_LEGACY_VERSION } from '../protocol/eras.js';
import { objectOr } from '../protocol/json.js';
import { isErrorResponse, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { classifyDiscoverProbe, MODERN_PROTOCOL_VERSION, modernHeadersFor, withRequestEnvelope } from '../protocol/modern.js';

/** What a handshake with one upstream settled: its era and what it said about itself. */
export interface Handshake {
  era: 'legacy' | 'modern';
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo: Record<string, unknown>;
  instructions?: string;
}

export const GATEWAY_CLIENT_INFO = { name: 'toolgate', version: '0.1.0' };

/**
 * What the gateway declares to upstreams. In the 2025 eras it declares every client capability
 * it can relay (and answers for a client that lacks one). To a 2026-07-28 upstream it declares
 * none yet: input requests (MRTR) are not relayed to that era, so the upstream must not rely
 * on them.
 */
const LEGACY_CLIENT_CAPABILITIES = { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };
export const MODERN_CLIENT_CAPABILITIES = {};

/** Sends one request during the handshake and resolves with its answer (the caller owns ids and timeouts). */
export type HandshakeRequest = (request: JsonRpcRequest, headers?: Record<string, string>) => Promise<JsonRpcResponse>;

/**
 * Settles the era with one upstream. `auto` probes HTTP upstreams with `server/discover` and
 * falls back to `initialize` when the answer says "legacy" (a 2025 server answers the probe
 * with an error); stdio upstreams in `auto` go straight to `initialize`, since a 2025 stdio
 * server is not obliged to answer anything before it. A fixed version is used as configured.
 */
export async function handshake(config: UpstreamConfig, send: HandshakeRequest): Promise<Handshake> {
  const probe = config.protocol === MODERN_PROTOCOL_VERSION || (config.protocol === 'auto' && config.transport.type === 'http');
  if (probe) {
    const modern = await discover(send, config.protocol === MODERN_PROTOCOL_VERSION);
    if (modern) return modern;
  }
  const requested = config.protocol === 'auto' || config.protocol === MODERN_PROTOCOL_VERSION ? LATEST_LEGACY_VERSION : config.protocol;
  const response = await send({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: requested, capabilities: LEGACY_CLIENT_CAPABILITIES, clientInfo: GATEWAY_CLIENT_INFO },
  });
  if (isErrorResponse(response)) throw new Error(`initialize failed: ${response.error.message}`);
  const r = response.result;
  return {
    era: 'legacy',
    protocolVersion: String(r.protocolVersion),
    capabilities: objectOr(r.capabilities),
    serverInfo: objectOr(r.serverInfo),
    ...(typeof r.instructions === 'string' ? { instructions: r.instructions } : {}),
  };
}

async function discover(send: HandshakeRequest, required: boolean): Promise<Handshake | undefined> {
  const request = withRequestEnvelope(
    { jsonrpc: '2.0', id: 0, method: 'server/discover', params: {} },
    { protocolVersion: MODERN_PROTOCOL_VERSION, clientCapabilities: MODERN_CLIENT_CAPABILITIES, clientInfo: GATEWAY_CLIENT_INFO },
  );
  const response = await send(request, eraHeaders(request));
  // The transport turns HTTP failures into JSON-RPC errors; an error body is what a 4xx carried.
  const verdict = classifyDiscoverProbe({ status: isErrorResponse(response) ? 400 : 200, body: response }, [MODERN_PROTOCOL_VERSION]);
  if (verdict.kind === 'modern') {
    const d = verdict.discovered;
    return {
      era: 'modern',
      protocolVersion: verdict.version,
      capabilities: d.capabilities,
      serverInfo: (d.serverInfo as unknown as Record<string, unknown>) ?? {},
      ...(d.instructions !== undefined ? { instructions: d.instructions } : {}),
    };
  }
  if (required) {
    throw new Error(`server/discover did not establish ${MODERN_PROTOCOL_VERSION}: ${verdict.kind === 'error' ? verdict.reason : 'the upstream speaks only the 2025 eras'}`);
  }
  // In `auto`, anything but a clear "modern" falls back to initialize, whose own failure is
  // then reported with the upstream's words.
  return undefined;
}

/** The per-message headers a 2026-07-28 upstream requires (the transport sets Content-Type and Accept itself). */
export function eraHeaders(request: JsonRpcRequest): Record<string, string> {
  const { 'Content-Type': _ct, Accept: _a, ...rest } = modernHeadersFor(request, MODERN_PROTOCOL_VERSION);
  return rest;
}
